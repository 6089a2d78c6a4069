"""The simulator page's part, for tests without a browser: it keeps what the page keeps
(the call SID, the waiting <Gather>, <Enqueue> or <Dial>) and posts the same JSON."""

from __future__ import annotations

API = "/dev/simulator/api/"


class SimulatorPage:
    def __init__(self, client):
        self.client = client
        self.turn: dict | None = None
        self.last_update = 0

    @property
    def sid(self) -> str:
        return self.turn["call_sid"]

    @property
    def state(self) -> str:
        return self.turn["state"]

    def texts(self) -> list[str]:
        return [speech["text"] for speech in self.turn["spoken"]]

    def post(self, path: str, body: dict, expect: int = 200) -> dict:
        response = self.client.post(API + path, json=body)
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.get_json()

    def played(self, path: str, body: dict) -> dict:
        self.turn = self.post(path, body)
        return self.turn

    def call(self, caller: str = "+9647501234567") -> dict:
        return self.played("start", {"caller": caller})

    def press(self, digits: str) -> dict:
        gather = self.turn["gather"]
        return self.played(
            "press",
            {
                "call_sid": self.sid,
                "caller": self.turn["caller"],
                "digits": digits,
                "action_url": gather["action_url"],
                "num_digits": gather["num_digits"],
                "finish_on_key": gather["finish_on_key"],
            },
        )

    def call_to_the_queue(self, *presses: str) -> dict:
        """English, then 0 for an agent (or the presses given)."""
        self.call()
        for digits in presses or ("3", "0"):
            self.press(digits)
        assert self.state == "queued", self.turn
        return self.turn

    def poll(self) -> dict | None:
        response = self.client.get(API + "poll", query_string={"call_sid": self.sid, "after": self.last_update})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["update"]

    def state_kept(self) -> dict:
        turn = self.turn
        return {
            "call_sid": self.sid,
            "caller": turn["caller"],
            "queue_action_url": turn["queue"]["action_url"] if turn.get("queue") else None,
            "dial": {"action_url": turn["dial"]["action_url"]} if turn.get("dial") else None,
        }

    def follow(self, update: dict) -> dict:
        self.last_update = update["id"]
        answer = self.post("follow", {**self.state_kept(), "update_id": update["id"]})
        self.turn = answer if "spoken" in answer else {**self.turn, **answer}
        return self.turn

    def agent_hangs_up(self, duration: int = 42) -> dict:
        return self.played("dial-ended", {**self.state_kept(), "dial_status": "completed", "duration": duration})

    def agent_does_not_answer(self) -> dict:
        return self.played("dial-ended", {**self.state_kept(), "dial_status": "no-answer"})

    def hang_up(self, duration: int = 90) -> dict:
        """The caller hangs up, or the page sends the status callback after the IVR ended the call."""
        return self.post("hangup", {**self.state_kept(), "duration": duration})

    def incoming(self) -> list[dict]:
        response = self.client.get(API + "incoming")
        assert response.status_code == 200
        return response.get_json()["calls"]

    def answer(self, sid: str) -> dict:
        return self.played("answer", {"call_sid": sid})
