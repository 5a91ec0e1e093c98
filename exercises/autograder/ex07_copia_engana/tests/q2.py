from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=1, hidden=False)
def test_q2_example(mirror_prompt):
    from induction_heads.exercises.ex07_copia_engana.checks import check_mirror_prompt
    words, m, bos = ([11, 12, 13, 14, 15], 3, 0)
    check_mirror_prompt(mirror_prompt, words, m, bos, [0, 11, 12, 13, 14, 15, 15, 14, 13])

@test_case(points=1, hidden=True)
def test_q2_more(mirror_prompt):
    import torch
    from induction_heads.exercises.ex07_copia_engana.checks import check_mirror_prompt, check_mirror_rejects
    g = torch.Generator().manual_seed(3)
    for n, m in ((8, 1), (8, 7), (12, 5), (2, 1)):
        words = (torch.randperm(300, generator=g)[:n] + 3).tolist()
        expected = [0] + words + [words[n - 1 - j] for j in range(m)]
        check_mirror_prompt(mirror_prompt, words, m, 0, expected)
    check_mirror_rejects(mirror_prompt, [21, 22, 23, 24, 25, 26], 0)

