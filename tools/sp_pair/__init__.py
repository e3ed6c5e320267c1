"""The two-SP harness (tools/sp-pair): topology, power controller, process control.

Stdlib only; run with /usr/bin/python3. See docs/HARNESS.md.
"""
