"""REST client for the Azure ML v1 pipelines, run-history and artifact services.

Layers, bottom up: ``routes`` (the endpoint table and URL builder), ``statuses`` (status vocabularies),
``errors`` (exception tree), ``retry`` (a pure retry policy shared by the sync and async transports),
``models`` (typed views of the JSON), ``clouds`` (per-cloud hosts and the bearer-token host allowlist),
then the requests-based ``sync_client`` and the httpx-based ``async_client``.
"""
