"""Streamlit glue: the only presslens package that imports streamlit, one module per concern.

- `state`: the session's state dict and its URL (seeded from the URL, written back every run).
- `storage`: the store behind the app (built from the corpus when missing or stale).
- `data`: cached query results for the pages (`data`, `raw`, `value`).
- `labels`: markdown escaping, language and entity display names.
- `sidebar`: link notices, the shared filters, the link to this view.
- `tables`: page blocks: headers, empty states, clickable charts and article tables.
- `reader`: one article with its evidence and highlighted mentions.
- `exports`: downloads of the articles in view.
- `auth`: the optional password gate (presslens.auth has the rules).

Pages use `from presslens import ui` and call the names re-exported here.
"""
from presslens.ui.state import (  # noqa: F401
    keep_query_on_nav, through_app,
    clear_filters, current_doc, current_filters, follow_goto, gen, k, open_article, register_pages,
    set_filters, set_page, show_undated, sync_from_url, write_url,
)
from presslens.ui.storage import corpus_root, ensure_store, info, start, store_root  # noqa: F401
from presslens.ui.data import CLUSTER_MIN, CLUSTER_SHARE, LIST_LIMIT, LOW_CONFIDENCE, PICKER_LIMIT, data, granularity, raw, value  # noqa: F401
from presslens.ui.labels import entity_names, lang_label, lang_labels, md  # noqa: F401
from presslens.ui.sidebar import notices, sidebar, view_url  # noqa: F401
from presslens.ui.tables import (  # noqa: F401
    article_table, chart, doc_table, duplicates_switch, entity_stats, entity_type_options, focus_choices, focus_entity,
    footer_timing, header, ids, language_table, leave_story, outlet_table, require_articles, shared_table,
    story_summary, story_table, surface_table, filter_button, cluster_table, split_control, part_table, cut_table, related_table, span_control, join_control, grouping_note,
)
from presslens.ui.reader import reader  # noqa: F401
from presslens.ui.exports import exports  # noqa: F401
from presslens.ui.auth import locked, password_page  # noqa: F401
from presslens.query import PROFILE_EAGER_LINKS, PROFILE_MAX_LINKS, RELATED_WINDOW_DAYS, UNKNOWN_OUTLET  # noqa: F401
from presslens.wording import plural, uncited_caption, undated_caption  # noqa: F401
