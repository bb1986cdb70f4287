"""The shared vocabularies (energy_lib.core.status) and the small ones next to their owners: each
keeps its strings in tables and JSON and refuses an unknown value."""

import json

import pytest

from energy_lib.apps.board import Visibility
from energy_lib.baselines.caltrack import CandidateStatus
from energy_lib.baselines.result import BaselineResult, ModelWarning
from energy_lib.core.status import MESSAGES, SEVERITY, Severity, Status, Sufficiency, WarningCode
from energy_lib.evaluation import EffectStatus
from energy_lib.ingest.pipeline import IngestOutcome, IngestReport
from energy_lib.publish.site import PageOutcome

VOCABULARIES = [Status, Sufficiency, Severity, WarningCode, CandidateStatus, EffectStatus, IngestOutcome,
                PageOutcome, Visibility]


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_members_are_their_strings_and_unknown_values_are_refused(vocabulary):
    for member in vocabulary:
        assert member == member.value and str(member) == member.value and f"{member}" == member.value
        assert json.dumps(member) == json.dumps(member.value) and vocabulary(member.value) is member
    with pytest.raises(ValueError):
        vocabulary("qualifed")


def test_the_result_statuses_are_openeemeters():
    assert list(Status) == ["qualified", "disqualified", "no_data", "error"]
    assert set(Status) - {Status.NO_DATA} <= set(CandidateStatus)  # a candidate is fitted or not attempted


def test_every_warning_code_has_a_severity_and_a_message():
    assert set(SEVERITY) == set(WarningCode) == set(MESSAGES)
    assert all(MESSAGES[code] for code in WarningCode)


def test_results_and_warnings_refuse_unknown_statuses_and_codes():
    with pytest.raises(ValueError):
        BaselineResult(method="towt", status="qualifed")
    with pytest.raises(ValueError):
        ModelWarning("too_few_days")
    with pytest.raises(ValueError):
        ModelWarning(WarningCode.NO_DATA, severity="fatal")
    with pytest.raises(ValueError):
        IngestReport("bills.csv", "ingested")
    assert BaselineResult(method="towt", status="no_data").status is Status.NO_DATA  # a stored string is read back
