"""Write a random-weight GGUF in Llama-3-8B's exact shape, already in Q4_K (no f16 pass, no quantize step),
with the real Llama-3 tokenizer and chat template. Valid block scales, random nibbles: good for timing
decode and constraint overhead on a GPU, useless for answers. ~4.6 GB for 32 layers, written in ~20 s.

usage: mkq4k.py VOCAB.gguf OUT.gguf [LAYERS]   (VOCAB: llama.cpp's models/ggml-vocab-llama-bpe.gguf)
A small LAYERS (e.g. 2) makes a ~0.6 GB file that runs on a CPU, to check the bench driver end to end.
"""

import sys
import time

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter

LLAMA3_TEMPLATE = (
    "{% for message in messages %}{% set content = '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
E, FF, H, HKV, V = 4096, 14336, 32, 8, 128256  # Llama-3-8B
BLOCK = 144  # bytes per 256 weights in Q4_K: d(f16) dmin(f16) scales[12] qs[128]
Q4_K = GGMLQuantizationType.Q4_K


def main() -> None:
    vocab_path, out = sys.argv[1], sys.argv[2]
    layers = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    fields = {k: v.contents() for k, v in GGUFReader(vocab_path).fields.items()}
    w = GGUFWriter(out, "llama")
    w.add_name("random-llama3-8b-shape-q4k")
    w.add_block_count(layers)
    w.add_context_length(8192)
    w.add_embedding_length(E)
    w.add_feed_forward_length(FF)
    w.add_head_count(H)
    w.add_head_count_kv(HKV)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(V)
    w.add_rope_dimension_count(128)
    w.add_file_type(15)  # MOSTLY_Q4_K_M
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(fields["tokenizer.ggml.tokens"])
    w.add_token_types(fields["tokenizer.ggml.token_type"])
    w.add_token_merges(fields["tokenizer.ggml.merges"])
    w.add_bos_token_id(128000)
    w.add_eos_token_id(128009)
    w.add_chat_template(LLAMA3_TEMPLATE)
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, size=(1 << 16, BLOCK), dtype=np.uint8)
    # d, dmin with dmin = 7.5 d keep the weights zero-mean: larger or biased scales overflow to NaN through
    # 32 layers, and then every constrained step fails (the mask leaves no finite logit).
    pool[:, 0:4] = np.array([5e-5, 3.75e-4], dtype=np.float16).view(np.uint8)
    pool[:, 4:16] &= 0x3F  # 6-bit scales and mins

    def q4k(rows: int, cols: int) -> np.ndarray:
        blocks = pool[rng.integers(0, pool.shape[0], size=rows * cols // 256)]
        return blocks.reshape(rows, cols // 256 * BLOCK)

    started = time.time()
    w.add_tensor("token_embd.weight", q4k(V, E), raw_dtype=Q4_K)
    for i in range(layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(E, np.float32))
        w.add_tensor(p + "attn_q.weight", q4k(E, E), raw_dtype=Q4_K)
        w.add_tensor(p + "attn_k.weight", q4k(HKV * 128, E), raw_dtype=Q4_K)
        w.add_tensor(p + "attn_v.weight", q4k(HKV * 128, E), raw_dtype=Q4_K)
        w.add_tensor(p + "attn_output.weight", q4k(E, E), raw_dtype=Q4_K)
        w.add_tensor(p + "ffn_norm.weight", np.ones(E, np.float32))
        w.add_tensor(p + "ffn_gate.weight", q4k(FF, E), raw_dtype=Q4_K)
        w.add_tensor(p + "ffn_up.weight", q4k(FF, E), raw_dtype=Q4_K)
        w.add_tensor(p + "ffn_down.weight", q4k(E, FF), raw_dtype=Q4_K)
    w.add_tensor("output_norm.weight", np.ones(E, np.float32))
    w.add_tensor("output.weight", q4k(V, E), raw_dtype=Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"q4k model ({layers} layers) written to {out} in {time.time() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
