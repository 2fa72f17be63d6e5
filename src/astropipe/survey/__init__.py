"""The candidate survey: stellar density around each candidate, gas/dust indicators, an objective class."""
