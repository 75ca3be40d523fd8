using AgentCrm.Core.Platform.Http;

namespace AgentCrm.Core.Tests.Platform;

public class RequestIdTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950e")]
    [InlineData("01J9Z3K7Q8:retry.2_x")]
    public void Well_formed_ids_are_kept(string id)
    {
        Assert.True(RequestId.IsWellFormed(id));
        Assert.Equal(id, RequestId.Resolve(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("new\nline")]
    [InlineData("<script>")]
    [InlineData("ünïcode")]
    public void Malformed_ids_are_replaced(string id)
    {
        Assert.False(RequestId.IsWellFormed(id));
        var replaced = RequestId.Resolve(id);
        Assert.NotEqual(id, replaced);
        Assert.True(RequestId.IsWellFormed(replaced));
    }

    [Fact]
    public void Over_long_ids_are_replaced()
    {
        Assert.True(RequestId.IsWellFormed(new string('a', 128)));
        Assert.False(RequestId.IsWellFormed(new string('a', 129)));
    }
}
