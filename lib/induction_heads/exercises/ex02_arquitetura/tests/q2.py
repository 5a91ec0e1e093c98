from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False)
def test_q2_public(previous_token_score):
    from induction_heads.exercises.ex02_arquitetura.checks import check_previous_token, handmade_case
    check_previous_token(previous_token_score, [handmade_case()])

