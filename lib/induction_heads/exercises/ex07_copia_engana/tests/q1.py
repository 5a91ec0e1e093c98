from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False)
def test_q1_examples(copied_token):
    from induction_heads.exercises.ex07_copia_engana.checks import check_copied_token
    check_copied_token(copied_token, [[7, 3, 9, 7], [7, 3, 7, 5, 7], [7, 3, 9]], [3, 5, None])

