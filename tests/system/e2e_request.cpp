#include "tests/system/e2e_request.hpp"

#include <utility>

namespace lb::e2e {

body request::to_body() const {
  if (op == "submit")
    return lb::e2e::submit(board, player, score, subscore, meta);
  if (op == "batch") {
    std::vector<body> b;
    for (auto& i : items)
      b.push_back(submit_item(i.board, i.player, i.score, i.subscore, i.meta));
    return lb::e2e::batch(b);
  }
  if (op == "rank")
    return lb::e2e::rank(board, player, exact);
  if (op == "top")
    return lb::e2e::top(board, limit, offset);
  if (op == "around")
    return lb::e2e::around(board, player, radius);
  if (op == "ranks")
    return lb::e2e::ranks(board, players);
  if (op == "remove")
    return lb::e2e::remove(board, player);
  if (op == "reset")
    return lb::e2e::reset(board);
  if (op == "configure")
    return lb::e2e::configure(board, order, oper);
  return body{op}; // boards, stats, ping
}

request submit_req(std::string board, std::string player, int64_t score, std::optional<int64_t> sub,
                   std::optional<meta_v> meta) {
  request r;
  r.op = "submit";
  r.board = std::move(board);
  r.player = std::move(player);
  r.score = score;
  r.subscore = sub;
  r.meta = std::move(meta);
  return r;
}

request simple_req(std::string op, std::string board, std::string player) {
  request r;
  r.op = std::move(op);
  r.board = std::move(board);
  r.player = std::move(player);
  return r;
}

request configure_req(std::string board, std::optional<std::string> order,
                      std::optional<std::string> oper) {
  request r = simple_req("configure", std::move(board));
  r.order = std::move(order);
  r.oper = std::move(oper);
  return r;
}

std::string describe(const request& r) {
  std::string s = r.op + " " + r.board;
  if (!r.player.empty())
    s += "/" + r.player;
  if (r.op == "submit")
    s += " score " + std::to_string(r.score)
         + (r.subscore ? " sub " + std::to_string(*r.subscore) : "") + (r.meta ? " meta" : "");
  return s;
}

} // namespace lb::e2e
