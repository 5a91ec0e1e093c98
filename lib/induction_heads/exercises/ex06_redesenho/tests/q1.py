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

