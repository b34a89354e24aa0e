"""The Local API: CrowdSec's LAPI v1 wire protocol on SQL, fed by the alerts topic.

Layout (each layer only imports the ones above it):

* ``clientip``, ``settings``, ``clock``, ``gotime``, ``iprange``, ``scopes``, ``errors``,
  ``metrics``, ``tokens``, ``tls`` — plain values, parsing and formats, machine tokens, HTTPS;
* ``db`` — SQLAlchemy models, engine/session set-up, the change sequence;
* ``profiles`` — CrowdSec profiles (expr filters) turning alerts into decisions;
* ``ingest`` — the one alert ingestion path (Kafka consumer and, later, ``POST /v1/alerts``);
* ``decisions``, ``stream``, ``bouncers``, ``machines``, ``certauth`` — queries, the exact
  bouncer stream, API keys, machines and their passwords, client-certificate identities;
* ``web``, ``routes``, ``app``, ``consumer``, ``server`` — HTTP, Kafka and process wiring.

Entry points for the app shell: :func:`lapi.server.serve`, :func:`lapi.app.create_app`,
:class:`lapi.settings.LapiSettings`, :func:`lapi.db.session.open_database` and
:mod:`lapi.bouncers` (``add_bouncer``/``list_bouncers``/``delete_bouncer``), :mod:`lapi.machines`
(``add_machine``/``list_machines``/``delete_machine``/``validate_machine``).
"""
