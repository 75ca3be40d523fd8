using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// Parses RESP2 replies from the connection's buffered bytes. A reply that is not complete yet leaves the
/// reader where it was; anything that is not RESP, or larger than the configured bound, is a
/// <see cref="RedisProtocolException"/> (the connection is then dropped: a byte stream cannot be resynchronised).
/// </summary>
internal sealed class RespParser(int maxReplyBytes)
{
    private const int MaxDepth = 16;
    private const int MaxLineBytes = 64 * 1024;

    /// <summary>Parses one whole reply from <paramref name="buffer"/>; on success, <paramref name="consumed"/> is where it ended.</summary>
    public bool TryParse(ReadOnlySequence<byte> buffer, out RedisReply reply, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        var budget = (long)maxReplyBytes;
        if (TryRead(ref reader, 0, ref budget, out reply))
        {
            consumed = reader.Position;
            return true;
        }

        if (buffer.Length > maxReplyBytes + MaxLineBytes)
        {
            throw new RedisProtocolException($"A reply exceeds the {maxReplyBytes}-byte limit (Redis:MaxReplyBytes).");
        }

        consumed = buffer.Start;
        return false;
    }

    private bool TryRead(ref SequenceReader<byte> reader, int depth, ref long budget, out RedisReply reply)
    {
        reply = RedisReply.Nil;
        if (!reader.TryRead(out var marker))
        {
            return false;
        }

        if (!TryReadLine(ref reader, out var line))
        {
            return false;
        }

        switch (marker)
        {
            case (byte)'+':
                reply = RedisReply.SimpleOf(Text(line));
                return true;
            case (byte)'-':
                reply = RedisReply.ErrorOf(Text(line));
                return true;
            case (byte)':':
                reply = RedisReply.IntegerOf(Number(line));
                return true;
            case (byte)'$':
                return TryReadBulk(ref reader, Number(line), ref budget, out reply);
            case (byte)'*':
                return TryReadArray(ref reader, Number(line), depth, ref budget, out reply);
            default:
                throw new RedisProtocolException($"Unexpected RESP type marker 0x{marker:x2}: the reply is not RESP2.");
        }
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, long length, ref long budget, out RedisReply reply)
    {
        reply = RedisReply.Nil;
        if (length == -1)
        {
            return true;
        }

        if (length < -1)
        {
            throw new RedisProtocolException($"Invalid bulk string length {length}.");
        }

        budget -= length;
        if (budget < 0)
        {
            throw new RedisProtocolException($"A reply exceeds the configured limit (Redis:MaxReplyBytes): bulk string of {length} bytes.");
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        var bytes = new byte[length];
        reader.TryCopyTo(bytes);
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RedisProtocolException("A bulk string is not followed by CRLF.");
        }

        reply = RedisReply.BulkOf(bytes);
        return true;
    }

    private bool TryReadArray(ref SequenceReader<byte> reader, long count, int depth, ref long budget, out RedisReply reply)
    {
        reply = RedisReply.Nil;
        if (count == -1)
        {
            return true;
        }

        // Each element takes at least 3 bytes on the wire, so a count beyond the budget can only be a lie.
        if (count < -1 || count * 3 > budget)
        {
            throw new RedisProtocolException($"Invalid or oversized array length {count}.");
        }

        if (depth >= MaxDepth)
        {
            throw new RedisProtocolException($"Replies nested deeper than {MaxDepth} levels.");
        }

        var items = new RedisReply[count];
        for (var i = 0; i < count; i++)
        {
            if (!TryRead(ref reader, depth + 1, ref budget, out items[i]))
            {
                return false;
            }
        }

        reply = RedisReply.ArrayOf(items);
        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        if (reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true))
        {
            if (line.Length > MaxLineBytes)
            {
                throw new RedisProtocolException("A reply line is longer than 64 KiB.");
            }

            return true;
        }

        if (reader.Remaining > MaxLineBytes)
        {
            throw new RedisProtocolException("A reply line is longer than 64 KiB without CRLF.");
        }

        return false;
    }

    private static string Text(ReadOnlySequence<byte> line) => Encoding.UTF8.GetString(line);

    private static long Number(ReadOnlySequence<byte> line)
    {
        Span<byte> digits = stackalloc byte[20];
        if (line.Length is 0 or > 20)
        {
            throw new RedisProtocolException("A length or integer in the reply is not a number.");
        }

        line.CopyTo(digits);
        if (!Utf8Parser.TryParse(digits[..(int)line.Length], out long value, out var read) || read != line.Length)
        {
            throw new RedisProtocolException($"'{Encoding.ASCII.GetString(digits[..(int)line.Length])}' in the reply is not a number.");
        }

        return value;
    }
}
