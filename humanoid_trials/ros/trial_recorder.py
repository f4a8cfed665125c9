"""trial_recorder: writes every trial event and safety event into the results store, idempotently by event UUID,
and acknowledges stored events on `events_stored` so producers can drop them from their outbox.

Events are buffered and written in batches every `flush_period_s`; when the store fails, they stay buffered and are
retried (nothing is acknowledged that was not stored). A safety event without a trial id is attributed to the
trial running at the time, else to the last trial seen (a fall noticed just after the trial ended still belongs to
it); with no trial at all it is logged and dropped (and acknowledged, so that it is not re-sent forever).

Parameters: db (results store URL; '' = the default SQLite file under results/), flush_period_s.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Sequence
from dataclasses import replace

from humanoid_trials_interfaces.msg import EventAck
from humanoid_trials_interfaces.msg import SafetyEvent as SafetyEventMsg
from humanoid_trials_interfaces.msg import TrialEvent as TrialEventMsg
from rclpy.node import Node

from humanoid_trials.model.events import EventKind, TrialEvent
from humanoid_trials.ros import names, qos
from humanoid_trials.ros.convert import event_from_msg, safety_from_msg
from humanoid_trials.ros.errors import ConversionError
from humanoid_trials.ros.runtime import run_node

NODE_NAME = "trial_recorder"
MAX_ACK_IDS = 1000
"""Most event ids per acknowledgement message."""


class TrialRecorder(Node):
    """Buffers events from the graph and writes them to the results store in batches."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        from humanoid_trials.results import Store  # SQLAlchemy is loaded by this node only

        db_url: str = self.declare_parameter("db", "").value
        flush_s = float(self.declare_parameter("flush_period_s", 0.2).value)
        self.store = Store(db_url or None)
        self.pending: dict[str, TrialEvent] = {}
        self.stored: set[str] = set()
        self.running_trial: uuid.UUID | None = None
        self.last_trial: uuid.UUID | None = None
        self.ack_pub = self.create_publisher(EventAck, names.EVENTS_STORED, qos.ACKS)
        self.create_subscription(TrialEventMsg, names.TRIAL_EVENTS, self._on_event, qos.EVENTS)
        self.create_subscription(SafetyEventMsg, names.SAFETY_EVENTS, self._on_safety, qos.EVENTS)
        self.create_timer(flush_s, self.flush)
        self.get_logger().info(f"recording to {self.store.url}")

    def _on_event(self, msg: TrialEventMsg) -> None:
        try:
            event = event_from_msg(msg)
        except ConversionError as exc:
            self.get_logger().error(f"dropped a malformed trial event: {exc}")
            return
        if event.kind is EventKind.TRIAL_STARTED:
            self.running_trial = self.last_trial = event.trial_id
        elif event.kind in (EventKind.TRIAL_FINISHED, EventKind.TRIAL_STOPPED) and self.running_trial == event.trial_id:
            self.running_trial = None
        self._add(event)

    def _on_safety(self, msg: SafetyEventMsg) -> None:
        try:
            safety = safety_from_msg(msg)
        except ConversionError as exc:
            self.get_logger().error(f"dropped a malformed safety event: {exc}")
            return
        if safety.trial_id is None:
            trial = self.running_trial or self.last_trial
            if trial is None:
                self.get_logger().warning(
                    f"safety event {safety.event_id} ({safety.type}, {safety.robot_id}) outside any trial: not stored"
                )
                self._ack([str(safety.event_id)])
                return
            safety = replace(safety, trial_id=trial)
        self._add(safety.to_event())

    def _add(self, event: TrialEvent) -> None:
        key = str(event.event_id)
        if key in self.stored:
            self._ack([key])  # a producer re-sent it: our earlier ack was lost
            return
        self.pending[key] = event

    def flush(self) -> None:
        """Write the buffered events and acknowledge them. A store failure keeps them for the next flush; an event
        the store cannot turn into rows (EventError) is logged, dropped and acknowledged so that it cannot block
        the others or be re-sent forever."""
        if not self.pending:
            return
        from humanoid_trials.results import EventError, ResultsError

        batch = list(self.pending.values())
        try:
            self.store.record_events(batch)
        except EventError:
            batch = self._record_one_by_one(batch)
        except ResultsError as exc:
            self.get_logger().error(f"storing {len(batch)} events failed, will retry: {exc}")
            return
        keys = [str(event.event_id) for event in batch]
        for key in keys:
            self.pending.pop(key, None)
        self.stored.update(keys)
        self._ack(keys)

    def _record_one_by_one(self, batch: list[TrialEvent]) -> list[TrialEvent]:
        """Store events singly after a batch failed on a malformed one; returns the events handled (stored or
        dropped as malformed)."""
        from humanoid_trials.results import EventError, ResultsError

        handled: list[TrialEvent] = []
        for event in batch:
            try:
                self.store.record_events([event])
            except EventError as exc:
                self.get_logger().error(f"event not storable, dropped: {exc}")
            except ResultsError as exc:
                self.get_logger().error(f"storing event {event.event_id} failed, will retry: {exc}")
                break
            handled.append(event)
        return handled

    def _ack(self, keys: list[str]) -> None:
        for start in range(0, len(keys), MAX_ACK_IDS):
            self.ack_pub.publish(EventAck(consumer=NODE_NAME, event_ids=keys[start : start + MAX_ACK_IDS]))

    def close(self) -> None:
        """Write what is still buffered, then close the store (called by the runtime at shutdown)."""
        self.flush()
        self.store.close()


def main(args: Sequence[str] | None = None) -> None:
    sys.exit(run_node(TrialRecorder, args, threads=1))


if __name__ == "__main__":
    main()
