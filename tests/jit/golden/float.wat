;; float min (NaN and signed zero handling), conversions with traps
(module
  (func (export "min") (param f64 f64) (result f64)
    local.get 0 local.get 1 f64.min)
  (func (export "trunc") (param f32) (result i32)
    local.get 0 i32.trunc_f32_s)
  (func (export "conv") (param i64) (result f32)
    local.get 0 f32.convert_i64_u))
