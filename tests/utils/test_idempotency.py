"""The idempotency key: the same for every try of one task instance, different for any other."""

from __future__ import annotations

from airflow_provider_azureml.utils.idempotency import IDEMPOTENCY_TAG, idempotency_key, submission_tags
from tests.task_context import TaskInstanceStandIn, make_context


def key_of(**ti_fields) -> str:
    return submission_tags(make_context(ti=TaskInstanceStandIn(**ti_fields)))[IDEMPOTENCY_TAG]


def test_key_is_stable_across_tries():
    assert key_of(try_number=1) == key_of(try_number=2) == key_of(try_number=7)


def test_key_differs_between_task_instances():
    base = key_of()
    others = {
        key_of(map_index=0),
        key_of(map_index=1),
        key_of(run_id="manual__2026-11-28T00:00:00+00:00"),
        key_of(dag_id="other_dag"),
        key_of(task_id="other_task"),
    }
    assert base not in others
    assert len(others) == 5


def test_unmapped_task_has_one_key_whatever_the_map_index_spelling():
    assert idempotency_key("d", "r", "t", None) == idempotency_key("d", "r", "t", -1)


def test_ids_cannot_run_into_each_other():
    # Plain concatenation would make these two equal.
    assert idempotency_key("ab", "c", "t", -1) != idempotency_key("a", "bc", "t", -1)


def test_tags_name_the_task_instance_for_studio_filters():
    tags = submission_tags(make_context(ti=TaskInstanceStandIn(dag_id="d", task_id="t", run_id="r")))
    assert tags["airflow.dag_id"] == "d"
    assert tags["airflow.task_id"] == "t"
    assert tags["airflow.run_id"] == "r"
    assert len(tags[IDEMPOTENCY_TAG]) == 40
    assert all(isinstance(value, str) for value in tags.values())
