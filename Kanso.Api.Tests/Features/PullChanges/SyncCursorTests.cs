using Kanso.Api.Domain.Sync;

namespace Kanso.Api.Tests.Features.PullChanges;

public sealed class SyncCursorTests
{
    private static readonly Guid User = Guid.Parse("0b9f8d8e-2f5c-4a53-9c1e-1f2d3c4b5a69");

    public static TheoryData<long, int, string, long> Cursors => new()
    {
        { 0, 2, "00000000-0000-0000-0000-000000000000", 0 },
        { 42, 2, "00000000-0000-0000-0000-000000000000", 0 },
        { 42, 0, "ffffffff-ffff-ffff-ffff-ffffffffffff", 0 },
        { 7, 1, "0b9f8d8e-2f5c-4a53-9c1e-1f2d3c4b5a69", 90 },
        { long.MaxValue - 1, 2, "00000000-0000-0000-0000-000000000000", 0 },
    };

    [Theory]
    [MemberData(nameof(Cursors))]
    public void Round_trips_when_decoded_for_the_same_user(long seq, int after, string id, long floor)
    {
        var cursor = new SyncCursor(seq, (ChangeKind)after, Guid.Parse(id), floor);

        var text = cursor.Encode(User);

        Assert.True(SyncCursor.TryDecode(text, User, out var decoded));
        Assert.Equal(cursor, decoded);
        Assert.Matches("^[A-Za-z0-9_-]+$", text);
    }

    [Fact]
    public void Refused_when_decoded_for_another_user()
    {
        var text = SyncCursor.At(5).Encode(User);

        Assert.False(SyncCursor.TryDecode(text, Guid.NewGuid(), out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("\0\u0001")]
    [InlineData("====")]
    [InlineData("a")]
    [InlineData("AQAAAAAAAAAAAQ")]
    [InlineData("日本語")]
    public void Refused_when_malformed(string text)
    {
        Assert.False(SyncCursor.TryDecode(text, User, out _));
    }

    [Fact]
    public void Refused_when_any_character_is_changed()
    {
        var text = new SyncCursor(9, ChangeKind.Entry, Guid.NewGuid(), 12).Encode(User);

        for (var i = 0; i < text.Length; i++)
        {
            var changed = text[..i] + (text[i] == 'A' ? 'B' : 'A') + text[(i + 1)..];
            Assert.False(SyncCursor.TryDecode(changed, User, out _), $"changed at {i}: {changed}");
        }
    }

    [Fact]
    public void Pages_resume_after_the_last_row_served()
    {
        var habit = new SyncCursor(3, ChangeKind.Habit, Guid.Parse("00000000-0000-0000-0000-0000000000ff"), 0);
        var entry = new SyncCursor(3, ChangeKind.Entry, Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"), 0);

        Assert.Equal((3L, Guid.Parse("00000000-0000-0000-0000-000000000100")), habit.HabitsFrom);
        Assert.Equal((3L, Guid.Empty), habit.EntriesFrom);
        Assert.Equal((4L, Guid.Empty), entry.HabitsFrom);
        Assert.Equal((4L, Guid.Empty), entry.EntriesFrom);
        Assert.Equal((4L, Guid.Empty), SyncCursor.At(3).HabitsFrom);
        Assert.Equal((4L, Guid.Empty), SyncCursor.At(3).EntriesFrom);
    }

    [Fact]
    public void The_horizon_is_the_last_change_number_received_completely_or_the_floor()
    {
        Assert.Equal(9, SyncCursor.At(9).Horizon);
        Assert.Equal(8, new SyncCursor(9, ChangeKind.Entry, Guid.NewGuid(), 0).Horizon);
        Assert.Equal(20, new SyncCursor(9, ChangeKind.Habit, Guid.NewGuid(), 20).Horizon);
    }
}
