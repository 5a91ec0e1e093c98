from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (duas frações). Se os valores estão certos, só a correção diz.")
def test_q5_format(copy_rate_ablated, right_rate_ablated):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('copy_rate_ablated', copy_rate_ablated), ('right_rate_ablated', right_rate_ablated)):
        require_answer(name, value)
        if hasattr(value, 'item'):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma fração entre 0 e 1, mas é {value!r}.')

