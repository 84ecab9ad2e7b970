"""A recorded session, replayed into a throwaway service, comes back exactly."""
import lbd.testing


def test_replay_reproduces_the_recorded_state(leaderboardd_factory):
    recorded = leaderboardd_factory(retain=True)  # --retain: keep the whole log
    with recorded.client.pipeline() as p:
        for i in range(500):
            p.submit("arena", f"player{i % 50}", i * 37 % 1000)
    recorded.stop()
    fresh = leaderboardd_factory()
    assert fresh.replay(recorded.data_dir)["digest"] == lbd.testing.log_digest(recorded.data_dir)
    assert fresh.client.top("arena", limit=1)["entries"][0]["score"] == 999
