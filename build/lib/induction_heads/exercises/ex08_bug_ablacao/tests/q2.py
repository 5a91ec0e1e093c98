from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (dois inteiros). Se os valores estão certos, só a correção diz.")
def test_q2_format(n_zeroed_seed, n_zeroed_correct):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('n_zeroed_seed', n_zeroed_seed), ('n_zeroed_correct', n_zeroed_correct)):
        require_answer(name, value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            fail(f'`{name}` deveria ser um inteiro não negativo, mas é {value!r}.')

