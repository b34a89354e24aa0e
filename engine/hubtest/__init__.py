"""``crowdstream hubtest``: CrowdSec hub tests run in-process (see HUBTEST-SPEC.md).

* ``config``  — a test's ``config.yaml``
* ``runner``  — environment (item resolution via :mod:`engine.hub`), log feeding, buckets,
  overflows, outcome (:func:`run_hub_test`)
* ``results`` — parser results / overflow objects as the dumps reload them
* ``asserts`` — assert files: the basename shim, per-line compile and evaluation
"""
from __future__ import annotations

from engine.hubtest.asserts import AssertReport, basename_shim, evaluate_assert_file
from engine.hubtest.config import HubTestConfig, TestConfigError
from engine.hubtest.runner import HubTestResult, discover_tests, run_hub_test

__all__ = ["AssertReport", "HubTestConfig", "HubTestResult", "TestConfigError",
           "basename_shim", "discover_tests", "evaluate_assert_file", "run_hub_test"]
