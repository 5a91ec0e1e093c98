from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False)
def test_q1_small(smear_keys):
    import torch
    from induction_heads.exercises.ex06_redesenho.checks import check_smear_keys, random_keys
    keys, alpha = random_keys(1, 3, 5, 3, seed=0)
    s = torch.sigmoid(alpha)
    expected = keys.clone()
    for h in range(3):
        for i in range(1, 5):
            expected[:, h, i] = s[h] * keys[:, h, i] + (1 - s[h]) * keys[:, h, i - 1]
    check_smear_keys(smear_keys, keys, alpha, expected)

@test_case(points=1, hidden=True)
def test_q1_shapes(smear_keys):
    import torch
    from induction_heads.exercises.ex06_redesenho.checks import check_smear_keys, random_keys
    for shape, seed in (((2, 4, 6, 4), 1), ((3, 4, 9, 6), 2), ((1, 1, 2, 8), 3)):
        keys, alpha = random_keys(*shape, seed=seed)
        batch, n_heads, T, d_head = shape
        s = torch.sigmoid(alpha)
        expected = keys.clone()
        for h in range(n_heads):
            for i in range(1, T):
                expected[:, h, i] = s[h] * keys[:, h, i] + (1 - s[h]) * keys[:, h, i - 1]
        check_smear_keys(smear_keys, keys, alpha, expected)

@test_case(points=1, hidden=True)
def test_q1_edges(smear_keys):
    import torch
    from induction_heads.exercises.ex06_redesenho.checks import check_smear_keys, random_keys
    keys, _ = random_keys(2, 3, 1, 4, seed=4)
    check_smear_keys(smear_keys, keys, torch.zeros(3), keys.clone(), label=' (T = 1: só a posição 0, que fica igual)')
    keys, _ = random_keys(2, 3, 6, 4, seed=5)
    alpha = torch.tensor([30.0, -30.0, 0.0])
    expected = keys.clone()
    expected[:, 1, 1:] = keys[:, 1, :-1]
    expected[:, 2, 1:] = 0.5 * (keys[:, 2, 1:] + keys[:, 2, :-1])
    check_smear_keys(smear_keys, keys, alpha, expected, label=' e alpha = [30, -30, 0] (a cabeça 1 usa só a chave anterior)')

