// Compile-time proof that every exported function has the exact C type
// include/rtctx.h declares: each line assigns the header's declaration
// (module CRtctx) and ours (this module) to one variable, so any mismatch
// in a parameter or the result is a build error.

import CRtctx

private func sameAsHeader() {
  var f0 = CRtctx.rt_strerror; f0 = RtctxExports.rt_strerror; _ = f0
  var f1 = CRtctx.rt_version; f1 = RtctxExports.rt_version; _ = f1
  var f2 = CRtctx.rt_version_string; f2 = RtctxExports.rt_version_string; _ = f2
  var f3 = CRtctx.rt_config_init; f3 = RtctxExports.rt_config_init; _ = f3
  var f4 = CRtctx.rt_new; f4 = RtctxExports.rt_new; _ = f4
  var f5 = CRtctx.rt_handle; f5 = RtctxExports.rt_handle; _ = f5
  var f6 = CRtctx.rt_shutdown; f6 = RtctxExports.rt_shutdown; _ = f6
  var f7 = CRtctx.rt_shutdown_timeout; f7 = RtctxExports.rt_shutdown_timeout; _ = f7
  var f8 = CRtctx.rt_handle_clone; f8 = RtctxExports.rt_handle_clone; _ = f8
  var f9 = CRtctx.rt_handle_release; f9 = RtctxExports.rt_handle_release; _ = f9
  var f10 = CRtctx.rt_handle_current; f10 = RtctxExports.rt_handle_current; _ = f10
  var f11 = CRtctx.rt_enter; f11 = RtctxExports.rt_enter; _ = f11
  var f12 = CRtctx.rt_exit; f12 = RtctxExports.rt_exit; _ = f12
  var f13 = CRtctx.rt_spawn; f13 = RtctxExports.rt_spawn; _ = f13
  var f14 = CRtctx.rt_spawn_full; f14 = RtctxExports.rt_spawn_full; _ = f14
  var f15 = CRtctx.rt_spawn_after; f15 = RtctxExports.rt_spawn_after; _ = f15
  var f16 = CRtctx.rt_block_on; f16 = RtctxExports.rt_block_on; _ = f16
  var f17 = CRtctx.rt_task_join; f17 = RtctxExports.rt_task_join; _ = f17
  var f18 = CRtctx.rt_task_cancel; f18 = RtctxExports.rt_task_cancel; _ = f18
  var f19 = CRtctx.rt_task_is_finished; f19 = RtctxExports.rt_task_is_finished; _ = f19
  var f20 = CRtctx.rt_task_release; f20 = RtctxExports.rt_task_release; _ = f20
  var f21 = CRtctx.rt_stats_get; f21 = RtctxExports.rt_stats_get; _ = f21
  var f22 = CRtctx.rt_callback_new; f22 = RtctxExports.rt_callback_new; _ = f22
  var f23 = CRtctx.rt_callback_free; f23 = RtctxExports.rt_callback_free; _ = f23
  var s0 = CRtctx.rt_strand_new; s0 = RtctxExports.rt_strand_new; _ = s0
  var s1 = CRtctx.rt_strand_release; s1 = RtctxExports.rt_strand_release; _ = s1
  var s2 = CRtctx.rt_strand_current; s2 = RtctxExports.rt_strand_current; _ = s2
  var s3 = CRtctx.rt_strand_spawn; s3 = RtctxExports.rt_strand_spawn; _ = s3
  var s4 = CRtctx.rt_strand_spawn_full; s4 = RtctxExports.rt_strand_spawn_full; _ = s4
  var s5 = CRtctx.rt_strand_spawn_after; s5 = RtctxExports.rt_strand_spawn_after; _ = s5
  var s6 = CRtctx.rt_strand_block_on; s6 = RtctxExports.rt_strand_block_on; _ = s6
  var f24 = CRtctx.rt_apply; f24 = RtctxExports.rt_apply; _ = f24
  var g0 = CRtctx.rt_group_new; g0 = RtctxExports.rt_group_new; _ = g0
  var g1 = CRtctx.rt_group_release; g1 = RtctxExports.rt_group_release; _ = g1
  var g2 = CRtctx.rt_group_spawn; g2 = RtctxExports.rt_group_spawn; _ = g2
  var g3 = CRtctx.rt_group_wait; g3 = RtctxExports.rt_group_wait; _ = g3
  var g4 = CRtctx.rt_group_notify; g4 = RtctxExports.rt_group_notify; _ = g4
  var g5 = CRtctx.rt_group_notify_full; g5 = RtctxExports.rt_group_notify_full; _ = g5
  var g6 = CRtctx.rt_group_cancel; g6 = RtctxExports.rt_group_cancel; _ = g6
  var g7 = CRtctx.rt_group_pending; g7 = RtctxExports.rt_group_pending; _ = g7
  var g8 = CRtctx.rt_group_strand_spawn; g8 = RtctxExports.rt_group_strand_spawn; _ = g8
  var b0 = CRtctx.rt_spawn_blocking; b0 = RtctxExports.rt_spawn_blocking; _ = b0
  var b1 = CRtctx.rt_blocking_begin; b1 = RtctxExports.rt_blocking_begin; _ = b1
  var b2 = CRtctx.rt_blocking_end; b2 = RtctxExports.rt_blocking_end; _ = b2
  var sig0 = CRtctx.rt_signal_slot_new; sig0 = RtctxExports.rt_signal_slot_new; _ = sig0
  var sig1 = CRtctx.rt_signal_slot_post; sig1 = RtctxExports.rt_signal_slot_post; _ = sig1
  var sig2 = CRtctx.rt_signal_slot_free; sig2 = RtctxExports.rt_signal_slot_free; _ = sig2
  var lp0 = CRtctx.rt_loop_new; lp0 = RtctxExports.rt_loop_new; _ = lp0
  var lp1 = CRtctx.rt_loop_free; lp1 = RtctxExports.rt_loop_free; _ = lp1
  var lp2 = CRtctx.rt_loop_fd; lp2 = RtctxExports.rt_loop_fd; _ = lp2
  var lp3 = CRtctx.rt_loop_current; lp3 = RtctxExports.rt_loop_current; _ = lp3
  var lp4 = CRtctx.rt_loop_spawn; lp4 = RtctxExports.rt_loop_spawn; _ = lp4
  var lp5 = CRtctx.rt_loop_spawn_full; lp5 = RtctxExports.rt_loop_spawn_full; _ = lp5
  var lp6 = CRtctx.rt_loop_spawn_after; lp6 = RtctxExports.rt_loop_spawn_after; _ = lp6
  var lp7 = CRtctx.rt_loop_block_on; lp7 = RtctxExports.rt_loop_block_on; _ = lp7
  var lp8 = CRtctx.rt_loop_run_pending; lp8 = RtctxExports.rt_loop_run_pending; _ = lp8
  var lp9 = CRtctx.rt_loop_run; lp9 = RtctxExports.rt_loop_run; _ = lp9
  var lp10 = CRtctx.rt_loop_stop; lp10 = RtctxExports.rt_loop_stop; _ = lp10
  var lp11 = CRtctx.rt_spawn_then; lp11 = RtctxExports.rt_spawn_then; _ = lp11
  var rep0 = CRtctx.rt_timer_new; rep0 = RtctxExports.rt_timer_new; _ = rep0
  var rep1 = CRtctx.rt_timer_start; rep1 = RtctxExports.rt_timer_start; _ = rep1
  var rep2 = CRtctx.rt_timer_again; rep2 = RtctxExports.rt_timer_again; _ = rep2
  var rep3 = CRtctx.rt_timer_stop; rep3 = RtctxExports.rt_timer_stop; _ = rep3
  var rep4 = CRtctx.rt_timer_due_in; rep4 = RtctxExports.rt_timer_due_in; _ = rep4
  var rep5 = CRtctx.rt_timer_get_info; rep5 = RtctxExports.rt_timer_get_info; _ = rep5
  var rep6 = CRtctx.rt_timer_free; rep6 = RtctxExports.rt_timer_free; _ = rep6
  var rep7 = CRtctx.rt_shutdown_background; rep7 = RtctxExports.rt_shutdown_background; _ = rep7
  var cbt0 = CRtctx.rt_callback_new_then; cbt0 = RtctxExports.rt_callback_new_then; _ = cbt0
}
