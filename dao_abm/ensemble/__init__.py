"""Ensembles: many independent sessions of one scenario, stepped together and streamed.

``sessions.py`` steps ``Session`` objects (the Mesa model's loop, Mesa-free) on one shared
instance; ``stream.py`` writes the run folder as rounds are recorded and summarizes across
sessions; ``run.py`` is the loop behind ``dao-abm run``.
"""
