"""Model side: sampling backends, prompt formats, training."""
