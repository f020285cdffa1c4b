#!/usr/bin/env python3
"""Generate a tiny, deterministic, random-weight BERT feature-extraction model
laid out the way transformers.js expects for a local model:

    <out-root>/<model-name>/config.json
    <out-root>/<model-name>/tokenizer.json
    <out-root>/<model-name>/tokenizer_config.json
    <out-root>/<model-name>/special_tokens_map.json
    <out-root>/<model-name>/onnx/model.onnx

Same structure as sentence-transformers/all-MiniLM-L6-v2 (BERT encoder,
WordPiece tokenizer, inputs input_ids/attention_mask/token_type_ids, output
last_hidden_state [batch, seq, hidden]) but tiny: hidden 32, 2 layers, 4 heads,
~300-token vocab. Weights come from a fixed seed, so output files are
byte-identical on every run. The embeddings are meaningless; they only depend
deterministically on the tokens.

Usage: python3 make-tiny-embedding-model.py <out-root> <model-name>
Needs the `onnx` and `numpy` Python packages (Debian: python3-onnx python3-numpy).
"""
import json
import os
import string
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    # A pyenv/venv `python3` does not see Debian's dist-packages: retry with the
    # system interpreter once.
    if os.path.exists("/usr/bin/python3") and not os.environ.get("TINY_MODEL_REEXEC"):
        os.environ["TINY_MODEL_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit("make-tiny-embedding-model: needs python packages onnx + numpy "
             "(apt-get install -y --no-install-recommends python3-onnx python3-numpy)")

SEED = 20240607
HIDDEN = 32
LAYERS = 2
HEADS = 4
INTERMEDIATE = 64
MAX_POS = 512
TYPE_VOCAB = 2
LN_EPS = 1e-12
OPSET = 13
IR_VERSION = 8  # onnx 1.12 writes IR 8; onnxruntime 1.30 reads it

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = """the of and to in is it that for on with as was this be are at by not or
from but have an they which you he she we his her their there what all were when
one can more if no out so up about into than then them these some would other time
its only new also any may after first two like our over such how most well just
hello world test sentence embedding model search query document text vector data
cat dog car house water food good bad big small fast slow red blue green black white
day night year man woman people work play run read write code file user server""".split()
PIECES = ["##s", "##es", "##ed", "##ing", "##er", "##ers", "##est", "##ly", "##tion",
          "##tions", "##ment", "##ness", "##able", "##al", "##ic", "##ous", "##ful",
          "##less", "##ity", "##ive", "##ize", "##y", "##en", "##an", "##on", "##in",
          "##th", "##ch", "##sh", "##re", "##le", "##te"]


def build_vocab():
    toks = list(SPECIALS)
    toks += list(string.punctuation)
    toks += list(string.digits)
    toks += list(string.ascii_lowercase)
    toks += ["##" + c for c in string.ascii_lowercase + string.digits]
    toks += ["##" + c for c in string.punctuation]
    for t in WORDS + PIECES:
        if t not in toks:
            toks.append(t)
    return {t: i for i, t in enumerate(toks)}


def tokenizer_json(vocab):
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True} for t in SPECIALS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": True, "strip_accents": None,
                       "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]}
                               for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]",
                  "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


def build_graph(vocab_size):
    rng = np.random.default_rng(SEED)
    inits = []
    nodes = []
    n = [0]

    def w(name, shape, std=0.1):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(shape) * std).astype(np.float32), name))
        return name

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(op_type, inputs, **attrs):
        n[0] += 1
        out = f"{op_type.lower()}_{n[0]}"
        nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def layer_norm(x, prefix):
        g = const(prefix + ".weight", np.ones(HIDDEN, np.float32))
        b = const(prefix + ".bias", np.zeros(HIDDEN, np.float32))
        mean = op("ReduceMean", [x], axes=[-1], keepdims=1)
        d = op("Sub", [x, mean])
        var = op("ReduceMean", [op("Mul", [d, d])], axes=[-1], keepdims=1)
        y = op("Div", [d, op("Sqrt", [op("Add", [var, "eps"])])])
        return op("Add", [op("Mul", [y, g]), b])

    def linear(x, prefix, i, o):
        return op("Add", [op("MatMul", [x, w(prefix + ".weight", (i, o))]),
                          w(prefix + ".bias", (o,), 0.02)])

    const("eps", np.array(LN_EPS, np.float32))
    const("one", np.array(1.0, np.float32))
    const("half", np.array(0.5, np.float32))
    const("neg_big", np.array(-10000.0, np.float32))
    const("inv_sqrt2", np.array(1 / np.sqrt(2), np.float32))
    const("scale", np.array(1 / np.sqrt(HIDDEN // HEADS), np.float32))
    const("i0", np.array(0, np.int64))
    const("i1", np.array(1, np.int64))
    const("idx1", np.array([1], np.int64))
    const("axes12", np.array([1, 2], np.int64))
    const("heads_shape", np.array([0, 0, HEADS, HIDDEN // HEADS], np.int64))
    const("hidden_shape", np.array([0, 0, HIDDEN], np.int64))

    # Embeddings: word + position + token type, then LayerNorm.
    word = op("Gather", [w("embeddings.word_embeddings.weight", (vocab_size, HIDDEN), 1.0),
                         "input_ids"], axis=0)
    seq_len = op("Squeeze", [op("Gather", [op("Shape", ["input_ids"]), "idx1"], axis=0)])
    positions = op("Range", ["i0", seq_len, "i1"])
    pos = op("Gather", [w("embeddings.position_embeddings.weight", (MAX_POS, HIDDEN), 0.3),
                        positions], axis=0)
    tt = op("Gather", [w("embeddings.token_type_embeddings.weight", (TYPE_VOCAB, HIDDEN), 0.3),
                       "token_type_ids"], axis=0)
    x = layer_norm(op("Add", [op("Add", [word, pos]), tt]), "embeddings.LayerNorm")

    # Additive attention mask [batch, 1, 1, seq]: 0 for real tokens, -10000 for padding.
    m = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask_bias = op("Unsqueeze", [op("Mul", [op("Sub", ["one", m]), "neg_big"]), "axes12"])

    def heads(t, perm):
        return op("Transpose", [op("Reshape", [t, "heads_shape"])], perm=perm)

    for L in range(LAYERS):
        p = f"encoder.layer.{L}."
        q = heads(linear(x, p + "attention.self.query", HIDDEN, HIDDEN), [0, 2, 1, 3])
        k = heads(linear(x, p + "attention.self.key", HIDDEN, HIDDEN), [0, 2, 3, 1])
        v = heads(linear(x, p + "attention.self.value", HIDDEN, HIDDEN), [0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), "scale"]), mask_bias])
        ctx = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        ctx = op("Reshape", [op("Transpose", [ctx], perm=[0, 2, 1, 3]), "hidden_shape"])
        attn = linear(ctx, p + "attention.output.dense", HIDDEN, HIDDEN)
        x = layer_norm(op("Add", [x, attn]), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense", HIDDEN, INTERMEDIATE)
        h = op("Mul", [op("Mul", [h, "half"]),
                       op("Add", ["one", op("Erf", [op("Mul", [h, "inv_sqrt2"])])])])  # exact GELU
        h = linear(h, p + "output.dense", INTERMEDIATE, HIDDEN)
        x = layer_norm(op("Add", [x, h]), p + "output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    ins = [helper.make_tensor_value_info(nm, TensorProto.INT64, ["batch_size", "sequence_length"])
           for nm in ("input_ids", "attention_mask", "token_type_ids")]
    outs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                          ["batch_size", "sequence_length", HIDDEN])]
    graph = helper.make_graph(nodes, "tiny_bert", ins, outs, initializer=inits)
    model = helper.make_model(graph, producer_name="make-tiny-embedding-model",
                              producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main(argv):
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} <out-root> <model-name>")
    out = os.path.join(argv[1], argv[2])
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    vocab = build_vocab()
    write_json(os.path.join(out, "config.json"), {
        "_name_or_path": argv[2], "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": len(vocab), "hidden_size": HIDDEN, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": MAX_POS,
        "type_vocab_size": TYPE_VOCAB, "initializer_range": 0.02,
        "layer_norm_eps": LN_EPS, "pad_token_id": 0,
        "position_embedding_type": "absolute", "torch_dtype": "float32"})
    write_json(os.path.join(out, "tokenizer.json"), tokenizer_json(vocab))
    special = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
               "unk_token": "[UNK]", "mask_token": "[MASK]"}
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True,
        "tokenize_chinese_chars": True, "strip_accents": None,
        "clean_up_tokenization_spaces": True, "model_max_length": MAX_POS, **special})
    write_json(os.path.join(out, "special_tokens_map.json"), special)
    onnx.save(build_graph(len(vocab)), os.path.join(out, "onnx", "model.onnx"))
    print(f"wrote {out} (vocab {len(vocab)}, hidden {HIDDEN}, layers {LAYERS})")


if __name__ == "__main__":
    main(sys.argv)
