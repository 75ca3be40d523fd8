using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>Writes commands as RESP arrays of bulk strings, straight into the connection's pipe.</summary>
internal static class RespWriter
{
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    public static void WriteCommand(IBufferWriter<byte> output, string command, IReadOnlyList<RedisArg> args)
    {
        WriteHeader(output, (byte)'*', args.Count + 1);
        WriteBulk(output, command);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var length = arg.ByteCount;
            WriteHeader(output, (byte)'$', length);
            var span = output.GetSpan(length + 2);
            var written = arg.WriteTo(span);
            Crlf.CopyTo(span[written..]);
            output.Advance(written + 2);
        }
    }

    private static void WriteBulk(IBufferWriter<byte> output, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteHeader(output, (byte)'$', length);
        var span = output.GetSpan(length + 2);
        var written = Encoding.UTF8.GetBytes(text, span);
        Crlf.CopyTo(span[written..]);
        output.Advance(written + 2);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte marker, int count)
    {
        var span = output.GetSpan(16);
        span[0] = marker;
        Utf8Formatter.TryFormat(count, span[1..], out var digits);
        Crlf.CopyTo(span[(1 + digits)..]);
        output.Advance(digits + 3);
    }
}
