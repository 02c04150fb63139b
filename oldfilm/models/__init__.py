"""The RTN network (Wan et al., CVPR 2022) and its parts. Import the modules directly (this package
imports nothing, so ``oldfilm.models.presets`` stays light):

    rtn            RTN (whole clip: ``forward``; one stream chunk: ``forward_chunk``), propagate,
                   residual_indicator, PassState
    blocks         GatedAggregation, WindowAttention, SwinBlock, ResidualSwinGroup, SwinRestoration
    presets        RTNConfig, PRESETS ("fast", "rtn-paper")
    weights        load_model, load_weights, save_weights (safetensors, config in the metadata, no pickle,
                   SHA-256 of shipped files) for every network the package ships
    discriminator  TemporalPatchGAN, hinge_d_loss, hinge_g_loss (for training)
"""
