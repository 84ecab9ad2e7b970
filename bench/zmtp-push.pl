#!/usr/bin/env perl
# A minimal ZeroMQ PUSH client for leaderboardd's ingest socket, for
# bench/boards.sh: it needs board names that lb-bench cannot make (lb-bench
# caps --boards at 100,000 and always picks its boards at random), so this
# speaks ZMTP 3.0 (NULL mechanism) over a plain TCP socket and encodes the
# msgpack submits itself. Fire-and-forget, like the ingest socket: the caller
# checks the service's seq to know when the events are applied.
#
#   perl bench/zmtp-push.pl load   --to=tcp://HOST:PORT --boards=N [--batch=B]
#       one submit on each of N boards bench0..bench<N-1>, player
#       player-0000000 (lb-bench's first player), score 1; batches of B
#       (1..1000, default 1000)
#   perl bench/zmtp-push.pl steady --to=tcp://HOST:PORT --board=NAME --rate=R
#                                  --seconds=S [--player=P]
#       R single submits a second on one board for S seconds, each with a
#       higher score than the last, so every one changes the entry
#
# Prints the number of events sent on stdout. Exit codes: 0 ok, 1 the
# service could not be reached or closed the connection, 2 a bad command line.
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

sub usage { print STDERR "zmtp-push: $_[0]\n(see the header of bench/zmtp-push.pl)\n"; exit 2; }

my $mode = shift @ARGV // usage("name a mode: load or steady");
usage("unknown mode '$mode': load or steady") unless $mode eq 'load' || $mode eq 'steady';
my %o = (batch => 1000, player => 'player-0000000');
for my $arg (@ARGV) {
  $arg =~ /^--(to|boards|batch|board|rate|seconds|player)=(.+)$/ or usage("unknown argument '$arg'");
  $o{$1} = $2;
}
my ($host, $port) = ($o{to} // '') =~ m{^tcp://([^:/]+):(\d+)$} or usage("--to=tcp://HOST:PORT is required");
my $whole = sub { my ($k, $min, $max) = @_;
  defined $o{$k} && $o{$k} =~ /^\d+$/ && $o{$k} >= $min && $o{$k} <= $max
    or usage("--$k must be a whole number from $min to $max");
};
if ($mode eq 'load') {
  $whole->('boards', 1, 100_000_000);
  $whole->('batch', 1, 1000);
} else {
  defined $o{board} && $o{board} =~ /^[A-Za-z0-9_.:-]{1,64}$/ or usage("--board=NAME is required (1..64 of [A-Za-z0-9_.:-])");
  $whole->('rate', 1, 1_000_000);
  defined $o{seconds} && $o{seconds} =~ /^\d+(\.\d+)?$/ && $o{seconds} > 0 or usage("--seconds must be a number above 0");
}

# -- msgpack, only what a submit needs ------------------------------------------
sub mp_str { my $n = length $_[0];
  ($n < 32 ? chr(0xa0 | $n) : $n < 256 ? "\xd9" . chr($n) : "\xda" . pack('n', $n)) . $_[0] }
sub mp_uint { my $v = shift;
  $v < 128 ? chr($v) : $v < 256 ? "\xcc" . chr($v) : $v < 65536 ? "\xcd" . pack('n', $v)
    : $v < 4294967296 ? "\xce" . pack('N', $v) : "\xcf" . pack('Q>', $v) }
sub mp_array { my $n = shift; $n < 16 ? chr(0x90 | $n) : $n < 65536 ? "\xdc" . pack('n', $n) : "\xdd" . pack('N', $n) }
sub submit_map { my ($board, $player, $score) = @_;
  "\x83" . mp_str('board') . mp_str($board) . mp_str('player') . mp_str($player)
    . mp_str('score') . mp_uint($score) }
my $op_submit = mp_str('op') . mp_str('submit');
my $op_batch = mp_str('op') . mp_str('batch') . mp_str('items');

# -- ZMTP 3.0 ---------------------------------------------------------------------
my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp')
  or do { print STDERR "zmtp-push: cannot connect to $o{to}: $!\n"; exit 1 };
$sock->autoflush(1);
binmode $sock;
$SIG{PIPE} = sub { print STDERR "zmtp-push: $o{to} closed the connection\n"; exit 1 };

sub put { my $data = shift; my $off = 0;
  while ($off < length $data) {
    my $n = syswrite($sock, $data, length($data) - $off, $off);
    defined $n or do { print STDERR "zmtp-push: writing to $o{to}: $!\n"; exit 1 };
    $off += $n;
  }
}
sub take { my $want = shift; my $buf = '';
  while (length $buf < $want) {
    my $n = sysread($sock, $buf, $want - length $buf, length $buf);
    $n or do { print STDERR "zmtp-push: $o{to} closed the connection during the handshake\n"; exit 1 };
  }
  $buf }
# Greeting: signature, version 3.0, mechanism NULL, as-server 0, filler.
put("\xff" . ("\0" x 8) . "\x7f" . "\x03\x00" . "NULL" . ("\0" x 16) . "\0" . ("\0" x 31));
# READY with our socket type; a short command frame.
my $ready = "\x05READY" . "\x0bSocket-Type" . pack('N', 4) . 'PUSH';
put("\x04" . chr(length $ready) . $ready);
# The peer's greeting and its READY (a command: flags 0x04 short, 0x06 long).
my $greeting = take(64);
substr($greeting, 0, 1) eq "\xff" && substr($greeting, 9, 1) eq "\x7f"
  or do { print STDERR "zmtp-push: $o{to} is not a ZeroMQ socket\n"; exit 1 };
my $flags = ord take(1);
my $size = $flags & 0x02 ? unpack('Q>', take(8)) : ord take(1);
my $cmd = take($size);
$cmd =~ /^\x05READY/ or do { print STDERR "zmtp-push: $o{to} refused the handshake\n"; exit 1 };

sub frame { my $body = shift; my $n = length $body;
  put(($n < 256 ? "\x00" . chr($n) : "\x02" . pack('Q>', $n)) . $body) }

my $sent = 0;
if ($mode eq 'load') {
  my @items;
  my $flush = sub {
    return unless @items;
    frame("\x82" . $op_batch . mp_array(scalar @items) . join('', @items));
    $sent += @items;
    @items = ();
  };
  for my $i (0 .. $o{boards} - 1) {
    push @items, submit_map("bench$i", $o{player}, 1);
    $flush->() if @items == $o{batch};
  }
  $flush->();
} else {
  my $start = time;
  my $end = $start + $o{seconds};
  my $every = 1 / $o{rate};
  my $next = $start;
  while ((my $now = time) < $end) {
    if ($now < $next) { sleep($next - $now); next; }
    # Catch up on a late wake-up, then wait for the next due time.
    while ($next <= $now) {
      $sent += 1;
      frame("\x84" . $op_submit . substr(submit_map($o{board}, $o{player}, $sent), 1));
      $next += $every;
    }
  }
}
# Close only once the kernel has taken everything: a PUSH has no reply to wait for.
shutdown($sock, 1);
my $rest;
1 while sysread($sock, $rest, 4096);
print "$sent\n";
