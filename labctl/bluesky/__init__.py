"""labctl in the Bluesky ecosystem (the ``bluesky`` extra; docs/bluesky.md).

Out, a run as event-model documents: :mod:`.documents` composes them, :mod:`.jsonl` writes and
reads a run's JSONL export, :mod:`.publish` emits them live as a run's records are stored (to
callbacks, or a 0MQ proxy), :mod:`.ingest` stores documents as labctl runs, and :mod:`.tiled_server`
serves the run store through Tiled.  In, the bench for Bluesky plans: :mod:`.devices` makes
ophyd-async devices of the board and the instruments from their command sets (:mod:`.bench_link`:
how they reach the bench, or its simulated twin), and :mod:`.plans` runs RunEngine plans on them
within the bench's safety limits.
"""
