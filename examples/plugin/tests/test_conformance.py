"""The conformance suite every signalbench model passes, run on the plugin's model (one test per check)."""

import pytest
from signalbench_ewma import EWMARidge

from signalbench.signals import available, get, register
from signalbench.signals.checks import signal_model_checks

if "ewma_ridge" not in available():  # run from a checkout without installing: register the class in this process
    register("ewma_ridge", EWMARidge)


def test_the_installed_name_is_this_class():
    assert get("ewma_ridge") is EWMARidge


@pytest.mark.parametrize("check", signal_model_checks(lambda: EWMARidge(seq_len=5, halflife=2.0)), ids=lambda c: c.name)
def test_conformance(check):
    check()
