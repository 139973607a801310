"""A simulated provincial one-stop system (like iGate) for demos, connector tests and benchmarks.

``catalogue`` holds the procedures and agencies, ``workload`` generates dossiers, ``province``
lets them arrive and progress as simulated time passes, ``server`` serves the pull API and
``push`` posts changes to a receiver (``cchc simulate provincial``).
"""
