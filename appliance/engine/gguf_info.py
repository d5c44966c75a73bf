"""What a GGUF file says about itself (architecture, size, quantization, context, chat template), read
with the `gguf` package's reader (memory-mapped; no weights are loaded), and whether its chat template
can carry the Aid's prompt."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from appliance.engine.prompt import ChatTemplate, split_prompt
from appliance.errors import ModelError

TEMPLATE_HINT = "Use an instruct model whose GGUF carries a known-good chat template (docs/MODELS.md)."


@dataclass(frozen=True)
class GgufInfo:
    """The metadata `appliance models add` pins next to a model's sha256."""

    architecture: str
    name: str
    parameters: int
    quantization: str
    context_length: int
    chat_template: str
    eos_token: str

    def as_dict(self) -> dict[str, Any]:
        """For the store and `models list` (the template itself is kept, it is public)."""
        return asdict(self)


def _field(reader: Any, key: str) -> Any:
    found = reader.fields.get(key)
    if found is None:
        return None
    return found.contents()


def read_gguf(path: Path) -> GgufInfo:
    """Read the metadata of the GGUF file at `path`; ModelError if it is not a readable GGUF."""
    import gguf  # the pinned `gguf` package (ggml's own reader)

    try:
        reader = gguf.GGUFReader(str(path), "r")
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is not a readable GGUF file: {exc}",
                         hint="Give the path of a .gguf model file.") from exc
    architecture = str(_field(reader, "general.architecture") or "unknown")
    file_type = _field(reader, "general.file_type")
    try:
        quantization = gguf.LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_") if file_type is not None else ""
    except ValueError:
        quantization = f"file_type {file_type}"
    tokens = _field(reader, "tokenizer.ggml.tokens") or []
    eos_id = _field(reader, "tokenizer.ggml.eos_token_id")
    eos = str(tokens[int(eos_id)]) if eos_id is not None and int(eos_id) < len(tokens) else ""
    return GgufInfo(
        architecture=architecture,
        name=str(_field(reader, "general.name") or path.stem),
        parameters=sum(int(t.n_elements) for t in reader.tensors),
        quantization=quantization or "unknown",
        context_length=int(_field(reader, f"{architecture}.context_length") or 0),
        chat_template=str(_field(reader, "tokenizer.chat_template") or ""),
        eos_token=eos,
    )


def check_chat_template(info: GgufInfo) -> None:
    """Refuse a model whose chat template is missing or cannot carry the Aid's prompt (a system turn,
    worked examples as user/assistant turns, a stable cacheable prefix)."""
    if not info.chat_template.strip():
        raise ModelError(f"{info.name} has no chat template (tokenizer.chat_template), so the Aid cannot prompt it",
                         hint=TEMPLATE_HINT)
    template = ChatTemplate(info.chat_template, bos_token="", eos_token=info.eos_token)
    fixed = [{"role": "system", "content": "rules"}, {"role": "user", "content": "hello"},
             {"role": "assistant", "content": '{"tool":"reply"}'}]
    try:
        parts = split_prompt(template, fixed, [{"role": "user", "content": "who is anna@example.org?"}])
    except ModelError as exc:
        raise ModelError(f"the chat template of {info.name} is not usable: {exc.message}",
                         hint=TEMPLATE_HINT) from exc
    if "rules" not in parts.prefix or "who is anna@example.org?" not in parts.suffix:
        raise ModelError(f"the chat template of {info.name} drops the system or user turn",
                         hint=TEMPLATE_HINT)


def human_parameters(count: int) -> str:
    """1_700_000_000 -> '1.7B'."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)
