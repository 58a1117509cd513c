"""Named-entity machinery behind presslens.enrich.entities.

- text: tokens, sentence starts, input bounds (pure regex, no models)
- morph: base forms per language (pymorphy3 ru/uk, Romanian suffix rules, English possessives)
- gazetteer: the curated alias table in data/gazetteer/ plus CLDR country names (babel)
- detect: candidate mention spans per language (natasha for ru, capitalised sequences for all)
- link: entity ids (gazetteer first, then a script-independent key of the base form)

Every model or table loads once per process (module-level lazy caches), so the code is
safe to call from multiprocessing workers.
"""
