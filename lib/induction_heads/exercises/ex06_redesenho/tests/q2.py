from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (duas atenções entre 0 e 1). Se os valores estão certos, só a correção diz.")
def test_q2_format(attn_b_smeared, attn_b_plain):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('attn_b_smeared', attn_b_smeared), ('attn_b_plain', attn_b_plain)):
        require_answer(name, value)
        if hasattr(value, 'item'):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma atenção, um número entre 0 e 1, mas é {value!r}.')

