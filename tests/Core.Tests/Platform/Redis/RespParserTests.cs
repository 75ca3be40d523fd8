using System.Buffers;
using System.Text;
using AgentCrm.Core.Platform.Redis;

namespace AgentCrm.Core.Tests.Platform.Redis;

public class RespParserTests
{
    private readonly RespParser _parser = new(1024);

    [Fact]
    public void Every_reply_type_parses()
    {
        var reply = ParseWhole("*6\r\n+OK\r\n-ERR boom\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*2\r\n*0\r\n*-1\r\n");
        var items = reply.AsArray();
        Assert.Equal("OK", items[0].AsString());
        Assert.Equal(RedisReplyKind.Error, items[1].Kind);
        Assert.Equal("ERR boom", items[1].Text);
        Assert.Equal(-42, items[2].AsInteger());
        Assert.Equal("he\r\no", items[3].AsString()); // bulk strings are length-framed: CRLF inside is data
        Assert.True(items[4].IsNil);
        Assert.Empty(items[5].AsArray()[0].AsArray());
        Assert.True(items[5].AsArray()[1].IsNil);
    }

    [Fact]
    public void A_reply_split_at_every_byte_waits_for_the_rest()
    {
        var wire = Encoding.ASCII.GetBytes("*2\r\n$3\r\nabc\r\n:7\r\n");
        for (var cut = 1; cut < wire.Length; cut++)
        {
            Assert.False(_parser.TryParse(new ReadOnlySequence<byte>(wire, 0, cut), out _, out _));
        }

        // Across segments, as a pipe delivers it.
        var sequence = Segments(wire, 3);
        Assert.True(_parser.TryParse(sequence, out var reply, out var consumed));
        Assert.Equal(sequence.End, consumed);
        Assert.Equal("abc", reply.AsArray()[0].AsString());
        Assert.Equal(7, reply.AsArray()[1].AsInteger());
    }

    [Theory]
    [InlineData("!3\r\nabc\r\n", "type marker")]
    [InlineData("$3\r\nabcd\r\n", "CRLF")]
    [InlineData("$2000\r\n", "MaxReplyBytes")]
    [InlineData("*1000\r\n", "oversized array")]
    [InlineData(":99999999999999999999999\r\n", "not a number")]
    [InlineData("$-2\r\n", "Invalid bulk string length")]
    public void Bad_or_oversized_replies_are_protocol_errors(string wire, string expected)
    {
        var error = Assert.Throws<RedisProtocolException>(() => ParseWhole(wire));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_is_bounded()
    {
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", 40)) + ":1\r\n";
        Assert.Throws<RedisProtocolException>(() => new RespParser(1 << 20).TryParse(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire)), out _, out _));
    }

    [Fact]
    public void Commands_are_written_as_arrays_of_bulk_strings()
    {
        var output = new ArrayBufferWriter<byte>();
        RespWriter.WriteCommand(output, "SET", ["k€y", 12345L, new byte[] { 0, 13, 10 }]);
        Assert.Equal("*4\r\n$3\r\nSET\r\n$5\r\nk€y\r\n$5\r\n12345\r\n$3\r\n\0\r\n\r\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private RedisReply ParseWhole(string wire)
    {
        Assert.True(_parser.TryParse(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire)), out var reply, out _));
        return reply;
    }

    private static ReadOnlySequence<byte> Segments(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var segment = new Segment(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)), offset);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.SetNext(segment);
            }

            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
