"""The route table read backwards: which route a URL path is, and its parameters, from the same templates."""

from __future__ import annotations

import re

import pytest

from airflow_provider_azureml.client import routes
from tests.client.helpers import SCOPE_PARAMS, path

TABLE = {name: value for name, value in vars(routes).items() if isinstance(value, routes.Route)}
#: Values that must be percent-encoded in a path segment: a slash, a space, a percent sign, non-ASCII.
AWKWARD = "a/b c%d-\u00e9"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_route_matches_the_paths_it_formats(name: str) -> None:
    route = TABLE[name]
    params = {key: f"{key}:{AWKWARD}" for key in re.findall(r"\{(\w+)", route.template)}

    assert route.match(route.path(**params)) == params


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        (
            path(routes.SUBMIT_PIPELINE, pipeline_id="pp-1"),
            (routes.SUBMIT_PIPELINE, {"pipeline_id": "pp-1"}),
        ),
        (
            path(routes.SUBMIT_ENDPOINT, endpoint_id="ep-1"),
            (routes.SUBMIT_ENDPOINT, {"endpoint_id": "ep-1"}),
        ),
        (
            path(routes.SUBMIT_ENDPOINT_VERSION, endpoint_id="ep-1", pipeline_version="0"),
            (routes.SUBMIT_ENDPOINT_VERSION, {"endpoint_id": "ep-1", "pipeline_version": "0"}),
        ),
    ],
)
def test_submit_urls_are_recognised_with_their_ids(url_path: str, expected: tuple) -> None:
    route, params = expected
    assert routes.match_route(url_path, routes.SUBMIT_ROUTES) == (route, {**SCOPE_PARAMS, **params})


def test_ids_are_decoded_after_matching_so_an_encoded_slash_stays_in_its_segment() -> None:
    submit = routes.AEVA.format(**SCOPE_PARAMS) + "/PipelineRuns/PipelineEndpointSubmit/Id/ep%2F1%20x/v%C3%A9"

    route, params = routes.match_route(submit, routes.SUBMIT_ROUTES) or (None, {})

    assert route == routes.SUBMIT_ENDPOINT_VERSION
    assert (params["endpoint_id"], params["pipeline_version"]) == ("ep/1 x", "v\u00e9")


@pytest.mark.parametrize(
    "url_path",
    [
        path(routes.GET_PIPELINE, pipeline_id="pp-1"),  # the pipeline itself, not its submit route
        path(routes.GET_PIPELINE_RUN, run_id="run-1"),
        path(routes.SUBMIT_PIPELINE, pipeline_id="pp-1") + "/extra",
        path(routes.SUBMIT_ENDPOINT, endpoint_id="ep-1") + "/",  # an empty version segment
        "/PipelineRuns/PipelineSubmit/pp-1",  # no workspace scope
        "/",
    ],
)
def test_a_path_of_no_submit_route_matches_nothing(url_path: str) -> None:
    assert routes.match_route(url_path, routes.SUBMIT_ROUTES) is None


def test_the_matcher_follows_the_template() -> None:
    """A changed template changes what matches: nothing about the route is written twice."""
    moved = routes.Route("api", "POST", "/v2/{pipeline_id}/submit")

    assert moved.match("/v2/pp%201/submit") == {"pipeline_id": "pp 1"}
    assert moved.match(path(routes.SUBMIT_PIPELINE, pipeline_id="pp-1")) is None
