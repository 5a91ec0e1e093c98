"""Realistic wrong answers to exercise 7, graded by tests/test_exercises.py.

Each entry takes the solution notebook, replaces the code cell that defines ``replaces`` with
``source``, and expects question ``question`` to score at most ``max_points`` (default 0) and
its feedback to contain ``feedback``.
"""

# The mirror batch of questions 4 and 5 (keep in sync with the source notebook).
_N, _M, _BATCH = 10, 4, 100

_Q1_PRINT = '''

print(copied_token(torch.tensor([7, 3, 9, 7])), copied_token(torch.tensor([7, 3, 7, 5, 7])),
      copied_token(torch.tensor([7, 3, 9])))
'''

_Q2_HEAD = '''def mirror_prompt(words, m, bos):
    words = torch.as_tensor(words, dtype=torch.long)
    n = len(words)
    if not 1 <= m <= n - 1:
        raise ValueError(f"m must be between 1 and n - 1 = {n - 1}, got {m}")
    if len(set(words.tolist())) != n:
        raise ValueError("the words must be distinct")
'''

_Q2_EXAMPLE = '''

words = torch.tensor(tokenizer("casa gato rio mar sol", add_special_tokens=False)["input_ids"])
example = mirror_prompt(words, 3, bos)
print(example, tokenizer.decode(example))
'''

WRONG_ANSWERS = [
    {
        "question": "q1",
        "what": "the first earlier occurrence instead of the most recent",
        "replaces": "copied_token",
        "source": "def copied_token(tokens):\n"
                  "    tokens = [int(t) for t in tokens]\n"
                  "    for j in range(len(tokens) - 1):\n"
                  "        if tokens[j] == tokens[-1]:\n"
                  "            return tokens[j + 1]\n"
                  "    return None\n" + _Q1_PRINT,
        "feedback": "você usou a primeira",
    },
    {
        "question": "q1",
        "what": "returns the earlier occurrence itself, not the token after it",
        "replaces": "copied_token",
        "source": "def copied_token(tokens):\n"
                  "    tokens = [int(t) for t in tokens]\n"
                  "    for j in range(len(tokens) - 2, -1, -1):\n"
                  "        if tokens[j] == tokens[-1]:\n"
                  "            return tokens[j]\n"
                  "    return None\n" + _Q1_PRINT,
        "feedback": "Você devolveu o próprio token",
    },
    {
        "question": "q1",
        "what": "off by one: the last token counts as its own earlier occurrence",
        "replaces": "copied_token",
        "source": "def copied_token(tokens):\n"
                  "    tokens = [int(t) for t in tokens]\n"
                  "    for j in range(len(tokens) - 1, -1, -1):\n"
                  "        if tokens[j] == tokens[-1]:\n"
                  "            return tokens[j + 1]\n"
                  "    return None\n",
        "feedback": "IndexError",
    },
    {
        "question": "q2",
        "what": "repeats the last words in the same order (a repetition, not a mirror)",
        "replaces": "mirror_prompt",
        "source": _Q2_HEAD + "    return torch.cat([torch.tensor([bos]), words, words[-m:]])\n" + _Q2_EXAMPLE,
        "feedback": "mesma ordem",
    },
    {
        "question": "q2",
        "what": "starts the mirror one word early (at w_{n-2})",
        "replaces": "mirror_prompt",
        "source": _Q2_HEAD + "    return torch.cat([torch.tensor([bos]), words, words.flip(0)[1:m + 1]])\n" + _Q2_EXAMPLE,
        "feedback": "você começou em",
    },
    {
        "question": "q2",
        "what": "no input validation",
        "replaces": "mirror_prompt",
        "source": "def mirror_prompt(words, m, bos):\n"
                  "    words = torch.as_tensor(words, dtype=torch.long)\n"
                  "    return torch.cat([torch.tensor([bos]), words, words.flip(0)[:m]])\n" + _Q2_EXAMPLE,
        "max_points": 1,
        "feedback": "ValueError",
    },
    {
        "question": "q3",
        "what": "a plain repetition, where copying is right",
        "replaces": "trap_text",
        "source": 'trap_text = "casa gato rio mar casa gato rio"\n',
        "feedback": "não é um espelho",
    },
    {
        "question": "q4",
        "what": "runs the model on the words alone, not on the mirror prompts",
        "replaces": "copy_rate",
        "source": (
            f"segments = repeated_tokens(tokenizer, seq_len={_N}, n_repeats=1, batch={_BATCH}, seed=0)\n"
            f"prompts = torch.stack([mirror_prompt(row[1:], {_M}, bos) for row in segments])\n"
            "copied = torch.tensor([copied_token(p) for p in prompts])\n"
            f"right = segments[:, 1 + {_N} - 1 - {_M}]\n"
            "predicted = next_token(model, segments)\n"
            "copy_rate = float((predicted == copied).float().mean())\n"
            "right_rate = float((predicted == right).float().mean())\n"
        ),
        "max_points": 1,
        "feedback": "Compare a previsão de next_token",
    },
    {
        "question": "q5",
        "what": "measures outside the ablation block",
        "replaces": "copy_rate_ablated",
        "source": (
            "with ablate_heads(model, induction):\n"
            "    pass\n"
            "predicted_ablated = next_token(model, prompts)\n"
            "copy_rate_ablated = float((predicted_ablated == copied).float().mean())\n"
            "right_rate_ablated = float((predicted_ablated == right).float().mean())\n"
        ),
        "max_points": 1,
        "feedback": "DENTRO do bloco",
    },
    {
        "question": "q6",
        "what": "ablate the induction heads for good",
        "replaces": "answer_q6",
        "source": 'answer_q6 = "b"',
        "feedback": "não passa a acertar",
    },
]
