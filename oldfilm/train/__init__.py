"""Training of the RTN network: corpus (``corpus``), clip sampling and synthetic camera motion (``data``,
``motion``), losses (``losses``), the loop with exact resume, EMA and DDP (``loop``), validation on the
evaluation clip (``validate``), run configs (``config``). Entry points: ``oldfilm train`` and
``python -m oldfilm.train`` (also under ``torchrun``). The colour refinement network's trainer: ``refine``
(``python -m oldfilm.train.refine RUN_DIR``)."""
