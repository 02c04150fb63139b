"""Archive scale: chunked, resumable restoration of long films, and batches of films on Ray.

``plan.py`` reads a film once (timestamps, scene cuts, damage) and cuts it into chunks; ``chunked.py``
restores one chunk to a lossless intermediate, joins the chunks with the audio, and runs a film chunk by
chunk so that an interrupted run resumes (``oldfilm restore --resume``); ``manifest.py`` turns a folder or
a CSV/JSON manifest into jobs; ``runner.py`` runs the jobs' chunks as Ray tasks (``oldfilm batch``).
"""
