"""REST client for the Azure ML v1 pipelines, run-history and artifact services.

Layers, bottom up: ``routes`` (the endpoint table, which builds and recognises URL paths), ``statuses``
(status vocabularies), ``errors`` (exception tree), ``retry`` (a pure retry policy shared by the sync and
async transports), ``models`` (typed views of the JSON), ``clouds`` (per-cloud hosts and the bearer-token
host allowlist), ``operations`` (every operation, written once as a generator of calls), then the
requests-based ``sync_client`` and the httpx-based ``async_client``, which both carry the operations out.
"""
