"""The quality loop: shadow evaluation, feedback, the outcome store, and what they measure."""
