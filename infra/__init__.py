"""Installing, configuring and launching the platform's services natively."""
