from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False)
def test_q1_examples(copied_token):
    from induction_heads.exercises.ex07_copia_engana.checks import check_copied_token
    check_copied_token(copied_token, [[7, 3, 9, 7], [7, 3, 7, 5, 7], [7, 3, 9]], [3, 5, None])

@test_case(points=1, hidden=True)
def test_q1_random(copied_token):
    import torch
    from induction_heads.exercises.ex07_copia_engana.checks import check_copied_token
    from induction_heads.scores import prefix_matching_targets
    g = torch.Generator().manual_seed(7)
    sequences, expected = ([], [])
    for length, vocab in ((12, 4), (20, 6), (30, 5), (9, 3), (15, 40)):
        for _ in range(4):
            seq = torch.randint(vocab, (length,), generator=g)
            target, _ = prefix_matching_targets(seq)
            after = target[0, -1].nonzero().flatten()
            sequences.append(seq.tolist())
            expected.append(int(seq[int(after.max())]) if len(after) else None)
    check_copied_token(copied_token, sequences, expected)

@test_case(points=1, hidden=True)
def test_q1_edges(copied_token):
    from induction_heads.exercises.ex07_copia_engana.checks import check_copied_token
    check_copied_token(copied_token, [[4, 4], [5], [1, 2, 3, 3], [2, 9, 2, 5, 2], [8, 1, 2, 3, 4, 5, 6, 8]], [4, None, 3, 5, 1])

