"""A pure-Python engine for CrowdSec content (parsers, scenarios, expr-lang).

No Kafka, Faust, web or database code lives here, nothing reads the wall clock (time comes
in with the data) and there is no global mutable state: the pipeline drives
:class:`engine.content.Content`.

* ``expr/``       expr-lang compiler (tokenizer, Pratt parser, closures) and helpers
* ``event``       CrowdSec's Event; ``gotime``/``durations``: Go time values and durations
* ``re2``/``grok`` RE2 → Python regexes; grok pattern libraries
* ``spec``        strict reading of content YAML
* ``parser/``     parser nodes, stages, statics, enrichers (ParseDate)
* ``scenario``/``bucket``/``alert``: scenarios, pure bucket logic, LAPI alerts
* ``content``     the facade used by the pipeline
"""
