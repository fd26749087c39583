"""A local emulator of the Azure ML v1 pipelines REST service, like Azurite for Storage.

Run it with ``python -m airflow_provider_azureml.emulator --host 127.0.0.1 --port 8089 [--seed FILE]
[--state FILE] [--data-dir DIR] [--blob-proxy-port PORT] [--execute [--step-timeout S]]`` (see ``--help``),
or in-process from tests with :func:`airflow_provider_azureml.emulator.testing.run_emulator`. It never
imports ``azureml`` or ``airflow``.

Layout: :mod:`.wire` is the service's wire as the emulator declares it (routes, statuses, JSON models,
error shapes, the OData filter subset); :mod:`.routers` parse requests and serialize what the state
returns; :mod:`.state` holds the backend (runs and the emulator's time), the registry of pipelines and
endpoints, the publish catalog, submission planning and :class:`~.state.views.RunView`, a run at an
instant; :mod:`.execution` runs published steps as processes (``--execute``); :mod:`.infrastructure`
is the app, server, auth, faults, counters, TLS and clock. :mod:`.testing` starts it in-process.

Azure surface (its own route table, :mod:`.wire.routes`; bearer token required except
for discovery and signed artifact content URLs):

- ``GET /discovery`` and the ARM workspace ``GET /subscriptions/.../workspaces/{ws}?api-version=``
- pipelines (AEVA, PascalCase): DataTypes, Pipelines, Graphs, PipelineEndpoints, PipelineSubmit,
  PipelineEndpointSubmit, PipelineRuns status/cancel/node status
- run history (camelCase): runs, details, children, ``runs:query``, ``experiments/{name}`` and a run by
  experiment id; artifacts: listings and content
- schedules (:mod:`.routers.schedules`): ``Schedules/Create``, ``GET``/``PUT Schedules/{id}``,
  ``Schedules?activeOnly``, ``Schedules/Pipeline/{id}``, ``Schedules/PipelineEndpoint/{id}``,
  ``PipelineRuns/Schedule/{id}`` and ``.../Last`` (204 when none). Active schedules fire on the emulator's
  clock (:mod:`.state.schedules`): each request, ``backend.submissions()``, ``advance`` and a one-second
  ticker in the server submit the runs due by then, each stamped with its own instant
- the publish path of the real SDK (``Pipeline.publish()``, ``PipelineEndpoint.publish()``,
  ``add``/``add_default``): ``Modules`` (by hash, create, get), ``DataSources``, ``Pipelines/Create``,
  ``PipelineEndpoints/Create`` and ``PUT PipelineEndpoints/{id}``, the datastore default, and the
  content service's snapshot routes (:mod:`.routers.content`). A published pipeline runs one step per module
  node, named by its module, in edge order; its snapshot files are kept
  (:meth:`.state.catalog.Catalog.snapshot_files`)
- blob storage for snapshot uploads, at ``https://emuacct.blob.core.windows.net`` only, reached through the
  emulator's HTTPS CONNECT proxy (``--blob-proxy-port``; TLS with a CA the emulator makes,
  :mod:`.infrastructure.tls`); the proxy refuses every other host with 403
  (:mod:`.infrastructure.blobproxy`)

Admin API, under ``/_emulator/`` (no Azure AD token; interactive docs at ``/_emulator/docs``). Its writes
(POST, PUT, DELETE) are refused unless every POST, and any write with a body, is sent with
``Content-Type: application/json`` (415 otherwise: a web page cannot send that cross-site without a CORS
preflight, which is never granted); with ``--admin-token`` (or ``AZUREML_EMULATOR_ADMIN_TOKEN``) they also
need that token in the ``X-Emulator-Admin-Token`` header (401 otherwise). Reads, such as health, stay open:

- ``GET /_emulator/health``: ``{"status": "ok", "runs": n}``
- ``GET /_emulator/publishing``: ``{"https_proxy", "ca_bundle_pem", "blob_host"}``, what a publishing
  process sets as ``HTTPS_PROXY`` and ``REQUESTS_CA_BUNDLE`` (``AzureMLHook.publishing_environment()`` does)
- ``GET /_emulator/execution``: ``{"execute": false}``, or with ``--execute`` the data directory, the
  step timeout and the folder of each datastore
- ``GET /_emulator/submissions``: every submission received (run id, pipeline id, endpoint id and
  version, experiment, parameters as received and as resolved with defaults, tags, time)
- ``POST /_emulator/pipelines``: register a published pipeline (body: one seed ``pipelines`` item)
- ``POST /_emulator/endpoints``: register a pipeline endpoint (body: one seed ``endpoints`` item)
- ``PUT /_emulator/durations``: default phase durations ``{"not_started", "queued", "step", "cancel"}``
- ``GET|POST|DELETE /_emulator/hold``: whether time is held; hold it (every simulated run stays in its
  status, new runs stay NotStarted); release it (time goes on from where it stood). For tests that must
  see a run active whatever the machine's speed
- ``GET /_emulator/clock``: the emulator's time (epoch seconds) and whether it is held;
  ``POST /_emulator/clock/advance`` ``{"seconds": s}`` jumps it ahead, held or not, so a test moves runs
  through their phases without waiting (in-process: ``run_emulator(clock=ManualClock())``)
- ``GET|POST|DELETE /_emulator/faults``: list, add (body: a :class:`~.infrastructure.faults.FaultRule`,
  matching a ``route`` name and/or a ``path`` glob where only ``*`` is special) or clear faults
- ``GET|DELETE /_emulator/requests``: request counts per ``"METHOD ROUTE_NAME"`` and per run id; reset
- ``POST /_emulator/reset``: back to the start-up seed (runs, registrations, faults, counts dropped;
  a hold released)

Run lifecycle: NotStarted, Queued, Running (steps one after another), then Finished (run history:
Completed) or Failed; ``DELETE .../Execution`` gives CancelRequested, then Canceled. Statuses are
computed from timestamps on read (:mod:`.state.lifecycle`).

Execution mode (``--execute``; :mod:`.execution.executor`): a run of a *published* pipeline really runs,
step by step in graph order, each step a local process in its own process group, with its snapshot (rebuilt
under ``<data dir>/runs/<run id>/<step run id>/snapshot``) as working directory and its stdout/stderr as its
``azureml-logs/70_driver_log.txt``. PythonScriptSteps run their script with the emulator's Python;
ParallelRunSteps run the emulator's own driver (:mod:`.execution.prs_driver`). Arguments,
``AML_PARAMETER_*`` and folders are resolved from the published graph (:mod:`.execution.commands`):
datastore ``<name>`` is the folder ``<data dir>/datastores/<name>/`` (fill ``workspaceblobstore/`` with
input data), and a PipelineData output is ``azureml/<step run id>/<output name>`` on it, as on Azure.
Statuses then come from the processes: exit code, cancel (kills the process group), step time limit
(``MaxRunDurationSeconds`` or ``--step-timeout``). A run still executing when the emulator stops ends
Failed. Seeded pipelines stay simulated. It runs the code it is sent, so ``--execute`` refuses a
non-loopback ``--host`` without ``--allow-remote-execution``.
"""
