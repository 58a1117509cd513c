"""presslens: how a story is told across outlets and languages.

Stages: presslens.ingest (files -> RawRecord/Reject), presslens.enrich (RawRecord ->
article row + mentions), presslens.build (orchestration, incremental, parallel),
presslens.store (Parquet schema and atomic writes), presslens.query / links / charts
(the dashboard's pure logic), presslens.ui (the only Streamlit-importing module).
"""
__version__ = "0.1.0"
