from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=1, hidden=False)
def test_q2_example(mirror_prompt):
    from induction_heads.exercises.ex07_copia_engana.checks import check_mirror_prompt
    words, m, bos = ([11, 12, 13, 14, 15], 3, 0)
    check_mirror_prompt(mirror_prompt, words, m, bos, [0, 11, 12, 13, 14, 15, 15, 14, 13])

