"""Exception cases: raising (raise_exception_case), working them (cases.py), remedies
(remedies.py), detectors (detectors.py) and the exception rule set lifecycle (rulesets.py)."""
