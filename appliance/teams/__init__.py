"""Bot Framework (botbuilder): the Teams side of the Aid. Only this room imports botbuilder."""
