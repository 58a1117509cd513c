"""Named-entity machinery behind presslens.enrich.entities.

- text: tokens, sentence starts, input bounds (pure regex, no models)
- morph: base forms per language (pymorphy3 ru/uk with the name's gender and case and a
  check against the article's own words; Romanian case-ending rules; English possessives)
- gazetteer: the curated alias table in data/gazetteer/ plus CLDR country names (babel),
  matched through base-form keys in any inflection or script
- detect: candidate spans beyond the gazetteer (natasha NER for ru and as a type oracle for
  uk; capitalised-sequence rules with sentence-start and function-word handling for all)
- crf: the learned detector per language (python-crfsuite; models in presslens/models/,
  trained by `python -m presslens.train`, see docs/MODEL_CARD.md); corpora: gold readers
- link: script-independent keys and skeletons of base forms, the ids of discovered names

Approach per language before issue #9 (now only the fallback without a model file;
with one, ner.crf detects -- see presslens.enrich.entities):
- ru: gazetteer + natasha spans + capitalised sequences where natasha found nothing;
- uk: gazetteer + capitalised sequences (pymorphy3's uk dictionary decides what is an
  ordinary word), typed by the overlapping natasha span, else by dictionary tags;
- ro, en: gazetteer + capitalised sequences with name connectors (de, of...), simplemma's
  dictionaries for sentence-initial words, English nationality adjectives dropped.

Every model or table loads once per process (module-level lazy caches), so the code is
safe to call from multiprocessing workers.
"""
