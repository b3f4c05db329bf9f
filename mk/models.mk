# mk/models.mk — model checking of concurrency protocols with spin
# (included by the Makefile).
#
#   make check-models  each model in Tests/models checked exhaustively, and
#                      each of its seeded bugs (-DBUG_...) made to fail
#
# The stress and TSan runs see the interleavings that happen; a model
# checker sees all of them, for a few threads and jobs. Each model opens
# with the Swift it mirrors (files, functions, lines), what it leaves out,
# its properties and its seeded bugs; docs/guarantees.md has the figures.
# A seeded bug that passes fails the step: the model would no longer catch
# the mistake it is there for. Build products go to $(MODELS_BUILD).
#
# pan's options: -DSAFETY for the assertion and deadlock checks (no cycle
# detection needed); -a -f (acceptance cycles, weak fairness) for the
# parking model's LTL property, a liveness one. -DCOLLAPSE compresses the
# stored states; -DMEMLIM (MB) stops a search that would exhaust a shared
# machine: a search it stops is reported as incomplete and fails.

SPIN         ?= spin
MODELS_DIR   := Tests/models
MODELS_BUILD := $(BUILD)/models
PAN_CFLAGS   ?= -O2 -DCOLLAPSE -DMEMLIM=2048
PAN_DEPTH    := -m100000
MODEL_CHECK   = SPIN=$(SPIN) CC=$(CC) mk/models.sh $(MODELS_BUILD)

.PHONY: check-models

check-models: ## model-check the inject ring, parking (and its signal doorbell), the drain and the monitor (spin; Tests/models)
	@$(call ensure,$(SPIN),spin)
	@start=$$(date +%s); status=0; \
	$(MODEL_CHECK) $(MODELS_DIR)/inject-ring.pml "$(PAN_CFLAGS) -DSAFETY" "$(PAN_DEPTH)" \
	  BUG_PUBLISH_BEFORE_READ BUG_PUBLISH_BEFORE_WRITE BUG_BATCH_STALE_COUNT || status=1; \
	$(MODEL_CHECK) $(MODELS_DIR)/parking.pml "$(PAN_CFLAGS) -DNFAIR=3" "-a -f $(PAN_DEPTH)" \
	  BUG_RECHECK_BEFORE_COUNT BUG_NOTIFY_BEFORE_PUSH BUG_STOP_NOT_RECHECKED || status=1; \
	$(MODEL_CHECK) $(MODELS_DIR)/parking-doorbell.pml "$(PAN_CFLAGS) -DNFAIR=3" "-a -f $(PAN_DEPTH)" \
	  BUG_BELL_NOT_RECHECKED BUG_RING_WAKES_NONE || status=1; \
	$(MODEL_CHECK) $(MODELS_DIR)/drain.pml "$(PAN_CFLAGS) -DSAFETY" "$(PAN_DEPTH)" \
	  BUG_ACCEPTED_FIRST BUG_CLOSE_SEPARATE BUG_REFUSE_KEEPS_BOUND BUG_EVENT_AFTER_CHECK || status=1; \
	$(MODEL_CHECK) $(MODELS_DIR)/monitor.pml "$(PAN_CFLAGS)" "-a -f $(PAN_DEPTH)" \
	  BUG_CHECK_BEFORE_STORE BUG_NO_RECHECK || status=1; \
	echo "check-models: 5 models, 14 seeded bugs, $$(( $$(date +%s) - start )) s"; exit $$status
