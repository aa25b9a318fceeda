"""Batch container that transcribes audio with NeMo Parakeet-TDT (full, local-attention, streaming)."""
