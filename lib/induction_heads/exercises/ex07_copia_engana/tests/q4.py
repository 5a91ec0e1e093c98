from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (duas frações). Se os valores estão certos, só a correção diz.")
def test_q4_format(copy_rate, right_rate):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('copy_rate', copy_rate), ('right_rate', right_rate)):
        require_answer(name, value)
        if hasattr(value, 'item'):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma fração entre 0 e 1, mas é {value!r}.')

