#!/usr/bin/env node
// A game backend's view of lbd: submit 1,000 scores pipelined on one DEALER,
// read the board's top, follow the board's top/ stream, then close the season
// (reset with archive) and read it back: its season/ message, `seasons`, and
// the closed season's top and a player's rank and percentile in it.
//
//   node example.js [--requests=EP] [--updates=EP] [--board=NAME]
//
// Endpoints also come from LBD_REQUESTS / LBD_UPDATES; the defaults are the
// service's own. Any error or a step that takes longer than LBD_TIMEOUT_MS
// (default 10000) ends the program with a message and exit status 1.
"use strict"
const zmq = require("zeromq")
const { encode, decode } = require("@msgpack/msgpack")

const flags = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const m = /^--(requests|updates|board)=(.+)$/.exec(arg)
    if (!m) fail(`unknown argument ${arg} (use --requests=EP --updates=EP --board=NAME)`)
    return [m[1], m[2]]
  }),
)
const requestsEp = flags.requests || process.env.LBD_REQUESTS || "tcp://127.0.0.1:7400"
const updatesEp = flags.updates || process.env.LBD_UPDATES || "tcp://127.0.0.1:7402"
const board = flags.board || "node-example"
const timeoutMs = Number(process.env.LBD_TIMEOUT_MS || 10000)
const PLAYERS = 1000
const WINDOW = 100 // requests in flight; the service allows 1000 per connection

function fail(message) {
  console.error(`example.js: ${message}`)
  process.exit(1)
}

// Rejects if `promise` does not settle within the timeout, naming the step.
function within(step, promise) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${step}: no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function connect(socket, endpoint) {
  try {
    socket.connect(endpoint)
  } catch (err) {
    fail(`cannot connect to ${endpoint}: ${err.message}`)
  }
}

// Requests on one DEALER: each carries an `id`, and its reply (which may come
// back in any order) settles the promise waiting under that id.
class Requests {
  constructor(endpoint) {
    this.socket = new zmq.Dealer({ linger: 0 })
    connect(this.socket, endpoint)
    this.nextId = 1
    this.waiting = new Map()
    this.sending = Promise.resolve() // zeromq.js allows one send at a time
    this.receiving = this.receiveLoop()
  }

  async receiveLoop() {
    try {
      for await (const frames of this.socket) {
        const reply = decode(frames[frames.length - 1]) // after the empty delimiter
        const waiter = this.waiting.get(reply.id)
        if (!waiter) throw new Error(`reply with unknown id ${reply.id}`)
        this.waiting.delete(reply.id)
        if (reply.ok) waiter.resolve(reply)
        else waiter.reject(new Error(`${waiter.op}: ${reply.error.code}: ${reply.error.message}`))
      }
    } catch (err) {
      if (!this.socket.closed) fail(`requests: ${err.message}`)
    }
  }

  call(op, body = {}) {
    const id = this.nextId++
    const reply = new Promise((resolve, reject) => this.waiting.set(id, { op, resolve, reject }))
    const frame = encode({ op, id, ...body })
    this.sending = this.sending
      .then(() => this.socket.send(["", frame]))
      .catch((err) => fail(`requests: send: ${err.message}`))
    return within(`${op} (id ${id}) at ${requestsEp}`, reply)
  }

  close() {
    this.socket.close()
  }
}

const show = (entries) => entries.map((e) => `${e.rank}. ${e.player} ${e.score}`).join(", ")

async function main() {
  const lb = new Requests(requestsEp)

  // 1. 1,000 submits, at most WINDOW in flight; replies are matched by id.
  const started = Date.now()
  const scoreOf = (i) => (i * 7919) % 100003 // distinct, in no particular order
  let next = 0
  let lastSeq = 0
  async function worker() {
    while (next < PLAYERS) {
      const i = next++
      const reply = await lb.call("submit", { board, player: `player-${i}`, score: scoreOf(i) })
      if (reply.player !== `player-${i}`) throw new Error(`reply for ${reply.player} to player-${i}'s submit`)
      lastSeq = Math.max(lastSeq, reply.seq)
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, worker))
  const ms = Date.now() - started
  console.log(`submitted ${PLAYERS} scores to ${board} in ${ms} ms, every reply matched by id (last seq ${lastSeq})`)

  // 2. The board's top 5, as of the reply's seq.
  const top = await lb.call("top", { board, limit: 5 })
  console.log(`top 5 of ${top.total} at seq ${top.seq}: ${show(top.entries)}`)

  // 3. Follow top/<board>/. A new subscription takes a moment to reach the
  // service, and a message may already be on its way from an earlier merge,
  // so submit a new best score until a message at or past its seq arrives.
  const sub = new zmq.Subscriber({ linger: 0 })
  connect(sub, updatesEp)
  sub.subscribe(`top/${board}/`)
  const best = top.entries.length ? top.entries[0].score : 0
  let message
  for (let attempt = 1; !message; attempt++) {
    if (attempt > 40) throw new Error(`no top/${board}/ message at ${updatesEp} after ${attempt - 1} submits`)
    const submitted = await lb.call("submit", { board, player: "node-newcomer", score: best + attempt })
    const deadline = Date.now() + 250 // five merge intervals
    while (!message && Date.now() < deadline) {
      sub.receiveTimeout = Math.max(1, deadline - Date.now())
      let frames
      try {
        frames = await sub.receive()
      } catch (err) {
        if (err.code === "EAGAIN") break // nothing yet: submit again
        throw err
      }
      const body = decode(frames[1])
      if (body.seq >= submitted.seq) message = { topic: frames[0].toString(), body }
    }
  }
  const { topic, body } = message
  const extra = body.stream_seq === undefined ? "" : ` stream_seq ${body.stream_seq}`
  console.log(`${topic} at seq ${body.seq}${extra}, ${body.total} entries: ${show(body.entries.slice(0, 5))}`)

  // 4. Seasons. season/<board>/ sends nothing on subscribing, so a follow/
  // subscription made after it (which does answer at once, with the player's
  // state) says when both have reached the service; then close the season.
  sub.subscribe(`season/${board}/`)
  sub.subscribe(`follow/${board}/node-newcomer`)
  sub.receiveTimeout = timeoutMs
  const receive = async () => {
    const frames = await within(`a message at ${updatesEp}`, sub.receive())
    return { topic: frames[0].toString(), body: decode(frames[1]) }
  }
  let m
  do m = await receive()
  while (!m.topic.startsWith("follow/"))
  const reset = await lb.call("reset", { board, archive: true })
  console.log(`reset ${board} with archive: closed season ${reset.season} (${reset.removed} entries, seq ${reset.seq})`)
  do m = await receive() // the merge after the reset sends it
  while (!m.topic.startsWith("season/"))
  const closed = m.body
  console.log(
    `${m.topic} season ${closed.season}, seq ${closed.start_seq}..${closed.end_seq}, ` +
      `${closed.total} entries: ${show(closed.entries.slice(0, 3))}`,
  )
  const { current, seasons } = await lb.call("seasons", { board })
  const listed = seasons.map((x) => `${x.season} (${x.current ? "current" : "closed"}, ${x.total} entries)`)
  console.log(`seasons of ${board}: current ${current}, ${listed.join(", ")}`)
  // A closed season reads as it ended: `seq` is its end_seq.
  const old = await lb.call("top", { board, limit: 3, season: closed.season })
  const mine = await lb.call("rank", { board, player: "player-985", season: closed.season })
  console.log(
    `season ${old.season} top 3 at seq ${old.seq}: ${show(old.entries)}; player-985 was #${mine.rank} ` +
      `of ${mine.total}, percentile ${mine.percentile.toFixed(2)}`,
  )

  sub.close()
  lb.close()
}

main().catch((err) => fail(err.message))
